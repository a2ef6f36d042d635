// `@metaxy/core/node`: what needs Node's file system — finding, loading and resolving
// `metaxy.config.ts`, and opening the stores it configures.
export {
  loadConfig,
  resolveConfig,
  findConfigFile,
  openStore,
  storeConfigOf,
  CONFIG_FILE_NAMES,
  type LoadConfigOptions,
  type ConfigOverrides,
  type ImportModule,
  type ConfigEnv,
  type OpenStoreOptions,
  type ResolvedMetaxyConfig,
  type ResolvedStoreConfig,
} from "./config/load-config.js";

import { existsSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { InvalidConfigError, MetaxyError } from "../errors.js";
import { FeatureGraph } from "../graph/feature-graph.js";
import type { FeatureDefinition } from "../spec/define-feature.js";
import type { AccessMode, Backend } from "../store/backend.js";
import { MetadataStore } from "../store/metadata-store.js";
import { HASH_ALGORITHMS, type HashAlgorithm } from "../versioning/hash-algorithms.js";
import {
  DEFAULT_STORE_NAME,
  type MetaxyConfig,
  type StoreConfig,
  isGraphLike,
  projectSchema,
  validateConfig,
} from "./define-config.js";

/** File names looked for in each directory, in this order. */
export const CONFIG_FILE_NAMES = [
  "metaxy.config.ts",
  "metaxy.config.mts",
  "metaxy.config.js",
  "metaxy.config.mjs",
] as const;

const ENV_NOTE = "Settings can be overridden with METAXY_* environment variables (e.g. METAXY_STORE).";

export type ConfigEnv = Readonly<Record<string, string | undefined>>;

/** Imports a config module. The CLI passes a TypeScript-capable loader (jiti); core stays dependency-free. */
export type ImportModule = (file: string) => Promise<unknown>;

export interface LoadConfigOptions {
  /** Where discovery starts. Default `process.cwd()`. */
  cwd?: string;
  /** Explicit config file (relative to `cwd`); beats `METAXY_CONFIG`. */
  configFile?: string;
  /** Look in parent directories too. Default true. */
  searchParents?: boolean;
  /** Environment read for `METAXY_*` overrides. Default `process.env`. */
  env?: ConfigEnv;
  /** Loader for the config module. Default: native `import()` (fine for .js / .mjs). */
  importModule?: ImportModule;
  /** Highest-precedence overrides (CLI flags). */
  overrides?: ConfigOverrides;
}

export interface ConfigOverrides {
  project?: string;
  store?: string;
}

export interface ResolvedStoreConfig {
  readonly name: string;
  readonly backend: StoreConfig["backend"];
  readonly fallbackStores: readonly string[];
  readonly hashAlgorithm: HashAlgorithm | undefined;
  readonly autoCreateTables: boolean | undefined;
  readonly description: string | undefined;
}

/** The effective configuration: file values, then `METAXY_*` variables, then explicit overrides. */
export interface ResolvedMetaxyConfig {
  /** Absolute path of the file it came from; null when built in code. */
  readonly configFile: string | null;
  readonly project: string;
  /** Default store name. */
  readonly store: string;
  readonly stores: Readonly<Record<string, ResolvedStoreConfig>>;
  readonly hashAlgorithm: HashAlgorithm | undefined;
  readonly hashTruncationLength: number;
  readonly autoCreateTables: boolean | undefined;
  /** The project's features, validated, under the resolved project and truncation. */
  readonly graph: FeatureGraph;
  /** Non-fatal problems (e.g. an env var naming an unknown store). */
  readonly warnings: readonly string[];
}

/** The first config file from `cwd` upward, or null. */
export function findConfigFile(cwd: string = process.cwd(), searchParents = true): string | null {
  let dir = resolve(cwd);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = join(dir, name);
      if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    }
    const parent = dirname(dir);
    if (!searchParents || parent === dir) return null;
    dir = parent;
  }
}

/**
 * Finds, imports and resolves `metaxy.config.ts` (SPEC §5): `configFile`, else `METAXY_CONFIG`,
 * else discovery from `cwd` upward. Every problem is an `InvalidConfigError` naming the file.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedMetaxyConfig> {
  const env = options.env ?? process.env;
  const cwd = resolve(options.cwd ?? process.cwd());
  const explicit = options.configFile ?? nonEmpty(env.METAXY_CONFIG);
  let file: string;
  if (explicit) {
    file = isAbsolute(explicit) ? explicit : resolve(cwd, explicit);
    if (!existsSync(file))
      throw new InvalidConfigError(
        `Config file ${file} does not exist${options.configFile ? "" : " (from METAXY_CONFIG)"}`,
        { file },
      );
  } else {
    const found = findConfigFile(cwd, options.searchParents ?? true);
    if (!found)
      throw new InvalidConfigError(
        `No Metaxy config found: looked for ${CONFIG_FILE_NAMES.join(", ")} in ${cwd}${options.searchParents === false ? "" : " and its parent directories"}. Create one with defineConfig(), or point METAXY_CONFIG at it.`,
        { cwd, reason: "not_found" },
      );
    file = found;
  }
  const config = await importConfig(file, options.importModule ?? nativeImport);
  return resolveConfig(config, { env, configFile: file, overrides: options.overrides });
}

async function nativeImport(file: string): Promise<unknown> {
  return import(pathToFileURL(file).href);
}

async function importConfig(file: string, importModule: ImportModule): Promise<MetaxyConfig> {
  let mod: unknown;
  try {
    mod = await importModule(file);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const hint =
      /\.(m?ts)$/.test(file) && /Unknown file extension|ERR_UNKNOWN_FILE_EXTENSION/.test(message)
        ? " Loading a .ts config needs a TypeScript loader: run it through the metaxy CLI, or pass importModule."
        : "";
    throw new InvalidConfigError(
      `Could not load config file ${file}: ${message}${hint}`,
      { file },
      { cause: e },
    );
  }
  let config = pickExport(mod);
  if (typeof config === "function") {
    try {
      config = await (config as () => unknown)();
    } catch (e) {
      if (MetaxyError.isInstance(e) && e.code === "INVALID_CONFIG") throw e;
      const message = e instanceof Error ? e.message : String(e);
      throw new InvalidConfigError(`Config function in ${file} failed: ${message}`, { file }, { cause: e });
    }
  }
  if (config === undefined || config === null || typeof config !== "object")
    throw new InvalidConfigError(
      `Config file ${file} must export a config: \`export default defineConfig({ project, features, stores })\``,
      { file },
    );
  validateConfig(config, file);
  return config;
}

function pickExport(mod: unknown): unknown {
  if (!mod || typeof mod !== "object") return mod;
  const m = mod as Record<string, unknown>;
  let value = "default" in m ? m.default : (m.config ?? undefined);
  // CommonJS interop (`module.exports = { default: ... }` seen through a loader)
  if (value && typeof value === "object" && "default" in value && !("project" in value))
    value = (value as Record<string, unknown>).default;
  return value;
}

/**
 * Applies `METAXY_*` variables and overrides to a config and builds its graph (precedence:
 * overrides > env > config). Variables: `METAXY_PROJECT`, `METAXY_STORE`, `METAXY_HASH_ALGORITHM`,
 * `METAXY_HASH_TRUNCATION_LENGTH`, `METAXY_AUTO_CREATE_TABLES`, and per store
 * `METAXY_STORES__<NAME>__FALLBACK_STORES` (comma-separated), `__HASH_ALGORITHM`, `__AUTO_CREATE_TABLES`.
 */
export function resolveConfig(
  config: MetaxyConfig,
  options: { env?: ConfigEnv; configFile?: string | null; overrides?: ConfigOverrides } = {},
): ResolvedMetaxyConfig {
  const env = options.env ?? process.env;
  const file = options.configFile ?? null;
  validateConfig(config, file ?? undefined);
  const warnings: string[] = [];
  const details = file ? { file } : {};
  const fail = (message: string, extra: Record<string, unknown> = {}): never => {
    throw new InvalidConfigError(`${message}${file ? ` (config: ${file})` : ""}. ${ENV_NOTE}`, {
      ...details,
      ...extra,
    });
  };

  const project = options.overrides?.project ?? nonEmpty(env.METAXY_PROJECT) ?? config.project;
  const checked = projectSchema.safeParse(project);
  if (!checked.success) fail(`Invalid project "${project}": ${checked.error.issues[0].message}`);

  const hashAlgorithm = envHash(env, "METAXY_HASH_ALGORITHM", fail) ?? config.hashAlgorithm;
  const truncationVar = nonEmpty(env.METAXY_HASH_TRUNCATION_LENGTH);
  let hashTruncationLength = config.hashTruncationLength;
  if (truncationVar !== undefined) {
    const n = Number(truncationVar);
    if (!Number.isInteger(n) || n < 8)
      fail(`METAXY_HASH_TRUNCATION_LENGTH must be an integer >= 8, got "${truncationVar}"`, {
        variable: "METAXY_HASH_TRUNCATION_LENGTH",
      });
    hashTruncationLength = n;
  }
  const autoCreateTables =
    envBool(env, "METAXY_AUTO_CREATE_TABLES", fail) ?? config.autoCreateTables ?? undefined;

  const stores: Record<string, ResolvedStoreConfig> = {};
  for (const [name, s] of Object.entries(config.stores ?? {}))
    stores[name] = {
      name,
      backend: s.backend,
      fallbackStores: [...(s.fallbackStores ?? [])],
      hashAlgorithm: s.hashAlgorithm,
      autoCreateTables: s.autoCreateTables,
      description: s.description,
    };
  applyStoreEnv(env, stores, warnings, fail);
  for (const s of Object.values(stores))
    for (const f of s.fallbackStores)
      if (!(f in stores))
        fail(`Store "${s.name}" names fallback store "${f}", which is not configured`, { store: s.name });

  const store = options.overrides?.store ?? nonEmpty(env.METAXY_STORE) ?? config.store ?? DEFAULT_STORE_NAME;

  const graph = buildGraph(config.features, project, hashTruncationLength, file);
  return Object.freeze({
    configFile: file,
    project,
    store,
    stores: Object.freeze(stores),
    hashAlgorithm,
    hashTruncationLength: graph.hashTruncationLength,
    autoCreateTables,
    graph,
    warnings: Object.freeze(warnings),
  });
}

function buildGraph(
  features: MetaxyConfig["features"],
  project: string,
  truncation: number | undefined,
  file: string | null,
): FeatureGraph {
  const defs: readonly FeatureDefinition[] = isGraphLike(features) ? features.features : features;
  const hashTruncationLength =
    truncation ?? (isGraphLike(features) ? features.hashTruncationLength : undefined);
  try {
    const graph = new FeatureGraph(defs, { project, hashTruncationLength });
    graph.validate();
    return graph;
  } catch (e) {
    if (!MetaxyError.isInstance(e)) throw e;
    throw new InvalidConfigError(
      `Invalid features${file ? ` in ${file}` : ""}: ${e.message}`,
      { ...e.details, ...(file ? { file } : {}), cause_code: e.code },
      { cause: e },
    );
  }
}

function applyStoreEnv(
  env: ConfigEnv,
  stores: Record<string, ResolvedStoreConfig>,
  warnings: string[],
  fail: (message: string, extra?: Record<string, unknown>) => never,
): void {
  const byUpper = new Map(Object.keys(stores).map((n) => [n.toUpperCase().replaceAll("-", "_"), n]));
  for (const variable of Object.keys(env).sort()) {
    const m = /^METAXY_STORES__(.+?)__(.+)$/.exec(variable);
    if (!m) continue;
    const value = env[variable];
    if (value === undefined) continue;
    const name = byUpper.get(m[1].toUpperCase());
    if (!name) {
      warnings.push(
        `Ignoring ${variable}: no store "${m[1].toLowerCase()}" is configured (stores are declared in the config file, since their backend is code)`,
      );
      continue;
    }
    const s = stores[name] as { -readonly [K in keyof ResolvedStoreConfig]: ResolvedStoreConfig[K] };
    switch (m[2].toUpperCase()) {
      case "FALLBACK_STORES":
        s.fallbackStores = value
          .split(",")
          .map((x) => x.trim())
          .filter((x) => x.length > 0);
        break;
      case "HASH_ALGORITHM":
        s.hashAlgorithm = envHash(env, variable, fail);
        break;
      case "AUTO_CREATE_TABLES":
        s.autoCreateTables = envBool(env, variable, fail);
        break;
      default:
        warnings.push(
          `Ignoring ${variable}: unknown store setting "${m[2].toLowerCase()}" (known: fallback_stores, hash_algorithm, auto_create_tables)`,
        );
    }
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

function envHash(
  env: ConfigEnv,
  variable: string,
  fail: (message: string, extra?: Record<string, unknown>) => never,
): HashAlgorithm | undefined {
  const v = nonEmpty(env[variable]);
  if (v === undefined) return undefined;
  if (!(HASH_ALGORITHMS as readonly string[]).includes(v))
    fail(`${variable} must be one of ${HASH_ALGORITHMS.join(", ")}, got "${v}"`, { variable });
  return v as HashAlgorithm;
}

function envBool(
  env: ConfigEnv,
  variable: string,
  fail: (message: string, extra?: Record<string, unknown>) => never,
): boolean | undefined {
  const v = nonEmpty(env[variable])?.toLowerCase();
  if (v === undefined) return undefined;
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off"].includes(v)) return false;
  return fail(`${variable} must be true or false, got "${env[variable]}"`, { variable });
}

export interface OpenStoreOptions {
  /** `"w"` (default) to write, `"r"` to only read. Fallback stores are always opened read-only. */
  mode?: AccessMode;
  materializationId?: string;
}

/**
 * Opens a configured store (default: the config's default store) with its fallback stores,
 * resolved by name and opened read-only. Closing the store closes its fallbacks too.
 */
export async function openStore(
  config: ResolvedMetaxyConfig,
  name: string = config.store,
  options: OpenStoreOptions = {},
): Promise<MetadataStore> {
  const opened = new Map<string, MetadataStore>();
  const all: MetadataStore[] = [];
  let primary: MetadataStore | undefined;
  const open = async (storeName: string, mode: AccessMode, chain: string[]): Promise<MetadataStore> => {
    if (chain.includes(storeName))
      throw new InvalidConfigError(
        `Fallback stores form a cycle: ${[...chain, storeName].join(" -> ")}${config.configFile ? ` (config: ${config.configFile})` : ""}`,
        { store: storeName },
      );
    const memo = mode === "r" ? opened.get(storeName) : undefined;
    if (memo) return memo;
    const sc = storeConfigOf(config, storeName);
    const fallbackStores: MetadataStore[] = [];
    for (const f of sc.fallbackStores) fallbackStores.push(await open(f, "r", [...chain, storeName]));
    let backend = await createBackend(sc, config);
    if (chain.length === 0 && fallbackStores.length > 0) {
      backend = withCleanup(backend, async () => {
        for (const s of all.filter((x) => x !== primary).reverse()) await s.close();
      });
    }
    const store = await MetadataStore.open(backend, {
      graph: config.graph,
      mode,
      name: storeName,
      hashAlgorithm: sc.hashAlgorithm ?? config.hashAlgorithm,
      autoCreateTables: sc.autoCreateTables ?? config.autoCreateTables,
      fallbackStores,
      materializationId: chain.length === 0 ? options.materializationId : undefined,
    });
    all.push(store);
    if (mode === "r") opened.set(storeName, store);
    return store;
  };
  try {
    primary = await open(name, options.mode ?? "w", []);
    return primary;
  } catch (e) {
    for (const s of all.reverse()) await s.close().catch(() => undefined);
    throw e;
  }
}

/** The configured store `name`, or an `InvalidConfigError` listing the available ones. */
export function storeConfigOf(config: ResolvedMetaxyConfig, name: string): ResolvedStoreConfig {
  const sc = config.stores[name];
  if (sc) return sc;
  const available = Object.keys(config.stores).sort();
  const where = config.configFile ? ` in ${config.configFile}` : "";
  throw new InvalidConfigError(
    available.length === 0
      ? `No metadata stores are configured${where}: add \`stores: { ${name}: { backend: () => ... } }\`. ${ENV_NOTE}`
      : `Store "${name}" is not configured${where}. Available: ${available.join(", ")}. ${ENV_NOTE}`,
    { store: name, available, ...(config.configFile ? { file: config.configFile } : {}) },
  );
}

async function createBackend(sc: ResolvedStoreConfig, config: ResolvedMetaxyConfig): Promise<Backend> {
  let backend: Backend;
  try {
    backend = await sc.backend();
  } catch (e) {
    if (MetaxyError.isInstance(e)) throw e;
    const message = e instanceof Error ? e.message : String(e);
    throw new InvalidConfigError(
      `Could not create the backend of store "${sc.name}"${config.configFile ? ` (config: ${config.configFile})` : ""}: ${message}. ${ENV_NOTE}`,
      { store: sc.name },
      { cause: e },
    );
  }
  if (!backend || typeof backend !== "object" || typeof backend.open !== "function")
    throw new InvalidConfigError(
      `The backend function of store "${sc.name}" must return a Backend (e.g. duckdb({ path })), got ${typeof backend}`,
      { store: sc.name },
    );
  return backend;
}

/** The same backend, whose `close` also runs `cleanup` (closes the fallback stores). */
function withCleanup(backend: Backend, cleanup: () => Promise<void>): Backend {
  return new Proxy(backend, {
    get(target, prop) {
      if (prop === "close")
        return async () => {
          try {
            await target.close();
          } finally {
            await cleanup();
          }
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

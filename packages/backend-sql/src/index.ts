export type { SqlDialect } from "./dialect.js";
export { compileRead } from "./read-compiler.js";
export {
  CURRENT_PREFIX,
  type CompiledResolve,
  type ResolveSources,
  STATUS,
  compileResolveUpdate,
} from "./resolve-compiler.js";
export type { EngineColumns, RowBatches, SqlDriver, SqlParams } from "./driver.js";

export type { SqlDialect } from "./dialect.js";
export type { EngineColumns, RowBatches, SqlDriver, SqlParams } from "./driver.js";
export { compileRead, latestOrder } from "./read-compiler.js";
export {
  CURRENT_PREFIX,
  type CompiledResolve,
  type ResolveSources,
  STATUS,
  compileResolveUpdate,
} from "./resolve-compiler.js";
export { SqlBackend, type SqlBackendOptions } from "./sql-backend.js";
export { stageTableNames } from "./stage-names.js";
export { describeValue, idempotencyConflict, layoutAfterWrite, scratchColumns } from "./driver-helpers.js";

export { duckdb, type DuckDBBackendOptions } from "./duckdb-backend.js";
export { duckdbDialect } from "./duckdb-dialect.js";
export { compileRead } from "./duckdb-read-compiler.js";
export {
  compileResolveUpdate,
  type CompiledResolve,
  type ResolveSources,
} from "./duckdb-resolve-compiler.js";

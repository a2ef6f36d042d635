export { duckdb, type DuckDBBackendOptions } from "./duckdb-backend.js";
export type { ByFieldLayout } from "./duckdb-driver.js";
export { duckdbDialect } from "./duckdb-dialect.js";
export { compileRead, compileResolveUpdate } from "./duckdb-compilers.js";
export type { CompiledResolve, ResolveSources } from "@metaxy/backend-sql";

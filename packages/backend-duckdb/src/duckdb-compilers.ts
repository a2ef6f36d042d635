import type { ResolveUpdatePlan } from "@metaxy/core";
import type { ReadQuery } from "@metaxy/core/backend";
import {
  type CompiledResolve,
  type ResolveSources,
  compileRead as compileSqlRead,
  compileResolveUpdate as compileSqlResolveUpdate,
} from "@metaxy/backend-sql";
import { duckdbDialect } from "./duckdb-dialect.js";

/** `read` semantics as one DuckDB SELECT over `source` (the shared compiler, DuckDB's dialect). */
export function compileRead(query: ReadQuery, source?: string): string {
  return compileSqlRead(duckdbDialect, query, source);
}

/** The resolve-update plan as DuckDB SQL (the shared compiler, DuckDB's dialect). */
export function compileResolveUpdate(plan: ResolveUpdatePlan, sources: ResolveSources): CompiledResolve {
  return compileSqlResolveUpdate(duckdbDialect, plan, sources);
}

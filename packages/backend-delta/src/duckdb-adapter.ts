// The one file that imports @metaxy/backend-duckdb: the Delta backend computes with DuckDB's
// compilers and engine (row loading, reads, resolve-update, increments, stages) through these.
import type { ColumnType } from "@metaxy/core";
import { compileRead as compileDuckdbRead, duckdb, duckdbDialect } from "@metaxy/backend-duckdb";

/** A DuckDB backend session on an instance the Delta backend owns. */
export const duckdbSession = duckdb;
export const q = duckdbDialect.quoteIdent;
export const s = duckdbDialect.string;
/** The DuckDB type a logical column type is computed as (what the DuckDB backend stores). */
export const duckType = (type: ColumnType): string => duckdbDialect.typeName(type);
/** `read` semantics as one DuckDB SELECT over the view `source` of a table. */
export const compileRead = compileDuckdbRead;

import type { ColumnType, HashAlgorithm } from "@metaxy/core";
import type { Literal } from "@metaxy/core";
import type { SqlParams } from "./driver.js";

/**
 * What SQL engines really differ in, for Metaxy's compilers. The read and resolve-update
 * compilers of this package write only portable SQL and ask the dialect for everything else
 * (the model is Kysely's `DefaultQueryCompiler` with per-dialect overrides). A new SQL backend
 * implements this interface once; it never copies a compiler.
 */
export interface SqlDialect {
  /** Short engine name, for messages. */
  readonly name: string;
  quoteIdent(name: string): string;
  /** A string literal of the engine (used for constants of the plan, never for user values). */
  string(value: string): string;
  /**
   * A user value (filter literal, tombstone value) in a statement: a server-side placeholder
   * recorded in `params` (ClickHouse `{p0:String}`, BigQuery `@p0`), or an escaped literal on
   * engines whose statements take none.
   */
  bind(value: Literal | Date, params: SqlParams): string;
  /** Column type for a logical Metaxy type (the `*_by_field` columns are `map`). */
  typeName(type: ColumnType): string;
  /** Record-level hash of a string expression, rendered as core renders it, then truncated. */
  hash(algorithm: HashAlgorithm, expr: string, truncation: number | null): string;
  /** A `*_by_field` value from parallel key / value expressions (how the column is written). */
  map(keys: readonly string[], values: readonly string[]): string;
  /**
   * Whether a `*_by_field` value is missing. Optional: default `expr IS NULL`; engines without
   * nullable maps (ClickHouse stores a missing map as an empty one) say how they tell.
   */
  mapIsNull?(mapExpr: string): string;
  /** One field of a `*_by_field` value (how the column is read). */
  mapGet(mapExpr: string, key: string): string;
  /**
   * One field of a STRUCT value: Python Metaxy's default layout keeps each `*_by_field` column as
   * a struct with one string field per feature field. Stored structs are read as maps.
   */
  structGet(structExpr: string, key: string): string;
  /**
   * How resolve-update compares expected with stored rows: one FULL OUTER JOIN (default), or
   * UNION ALL + GROUP BY on the diff keys — for engines whose joins are nested loops (the
   * BigQuery emulator) or fill unmatched columns with defaults. `anyValue` must then skip NULLs.
   */
  readonly diffShape?: "join" | "union";
  /** Any one value of a group (the engine's `any_value`). */
  anyValue(expr: string): string;
  /** Null-safe inequality. */
  isDistinctFrom(a: string, b: string): string;
  /** `string_agg(expr, sep)` ordered by `orderBy` (a comma-separated list). */
  orderedStringAgg(expr: string, separator: string, orderBy: string): string;
  /** Cast to the engine's string type. */
  toText(expr: string): string;
  /**
   * Keeps one row per `partitionBy` of `select` (a `SELECT * FROM ...` statement): the first by
   * `orderBy`. The result has the same columns as `select`.
   */
  firstPerPartition(select: string, partitionBy: readonly string[], orderBy: string): string;
  /** Rows of `left` (alias `f`) having a match in `right` (alias `o`) on `on`. */
  semiJoin(left: string, right: string, on: string): string;
  /** Join condition: `a` and `b` equal, NULL matching NULL (`IS NOT DISTINCT FROM`), as a hash join can use it. */
  sameKey(a: string, b: string): string;
  /** `alias.*` without `columns`. */
  allExcept(alias: string, columns: readonly string[]): string;
}

import type { SqlDialect, SqlParams } from "@metaxy/backend-sql";
import {
  type ColumnType,
  type HashAlgorithm,
  type Literal,
  HashAlgorithmNotSupportedError,
  ValidationError,
} from "@metaxy/core";

/**
 * The `*_by_field` columns. BigQuery has no map type: a repeated (key, value) record keeps any set
 * of fields without a schema change, and reads with one UNNEST. A stored array is never NULL
 * (BigQuery writes NULL as `[]`), so a missing map is an empty one, as on ClickHouse.
 */
export const STRING_MAP = "ARRAY<STRUCT<key STRING, value STRING>>";

/** The hashes BigQuery computes natively; it has no xxhash. */
export const BIGQUERY_HASHES: readonly HashAlgorithm[] = ["md5", "sha256"];

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A bound value as SQL over a STRING parameter: every parameter is sent as a string and cast in
 * the statement, which both real BigQuery and the emulator read the same way (the emulator loses
 * TIMESTAMP parameters and refuses FLOAT64 ones sent as numbers).
 */
function parameter(value: Literal | Date): [sql: (p: string) => string, sent: string] {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime()))
      throw new ValidationError("Cannot bind an invalid Date as a BigQuery value", { value: String(value) });
    return [(p) => `TIMESTAMP(${p})`, value.toISOString()];
  }
  switch (typeof value) {
    case "string":
      return [(p) => p, value];
    case "boolean":
      return [(p) => `CAST(${p} AS BOOL)`, String(value)];
    case "bigint":
      if (value < INT64_MIN || value > INT64_MAX)
        throw new ValidationError(`${value} does not fit BigQuery's INT64`, { value: value.toString() });
      return [(p) => `CAST(${p} AS INT64)`, value.toString()];
    case "number":
      if (Number.isSafeInteger(value)) return [(p) => `CAST(${p} AS INT64)`, String(value)];
      // CAST('NaN' / 'inf' / '-inf' AS FLOAT64) are BigQuery's spellings of the non-finite values.
      return [
        (p) => `CAST(${p} AS FLOAT64)`,
        Number.isNaN(value)
          ? "NaN"
          : value === Infinity
            ? "inf"
            : value === -Infinity
              ? "-inf"
              : String(value),
      ];
    default:
      throw new ValidationError(`Cannot bind a ${typeof value} as a BigQuery value`, {
        value: String(value),
      });
  }
}

const hashes: Partial<Record<HashAlgorithm, (expr: string) => string>> = {
  md5: (e) => `TO_HEX(MD5(${e}))`,
  sha256: (e) => `TO_HEX(SHA256(${e}))`,
};

/**
 * How Metaxy speaks GoogleSQL (BigQuery). Every user value is a named `@pN` parameter; maps are
 * repeated (key, value) records; resolve-update diffs by UNION ALL + GROUP BY, which BigQuery
 * shuffles as well as a join and the emulator (whose joins are nested loops) runs in seconds.
 */
export const bigqueryDialect: SqlDialect = {
  name: "bigquery",
  quoteIdent(name: string): string {
    return `\`${name.replaceAll("\\", "\\\\").replaceAll("`", "\\`")}\``;
  },
  /** A string literal: backslash, quote and control characters escaped. */
  string(value: string): string {
    const escaped = value
      .replaceAll("\\", "\\\\")
      .replaceAll("'", "\\'")
      .replaceAll("\n", "\\n")
      .replaceAll("\r", "\\r")
      .replaceAll("\t", "\\t")
      .replaceAll("\u0000", "\\x00");
    return `'${escaped}'`;
  },
  bind(value: Literal | Date, params: SqlParams): string {
    if (value === null) return "NULL";
    const [sql, sent] = parameter(value);
    let i = Object.keys(params).length;
    while (`p${i}` in params) i++;
    params[`p${i}`] = sent;
    return sql(`@p${i}`);
  },
  typeName(type: ColumnType): string {
    switch (type) {
      case "string":
        return "STRING";
      case "json":
        return "JSON";
      case "integer":
        return "INT64";
      case "float":
        return "FLOAT64";
      case "boolean":
        return "BOOL";
      case "timestamp":
        return "TIMESTAMP";
      // Python's snapshot table keeps UTC wall time without a zone.
      case "timestamp_ntz":
        return "DATETIME";
      case "map":
        return STRING_MAP;
    }
  },
  hash(algorithm: HashAlgorithm, expr: string, truncation: number | null): string {
    const hash = hashes[algorithm];
    if (!hash)
      throw new HashAlgorithmNotSupportedError(
        `BigQuery has no ${algorithm} function: use one of ${BIGQUERY_HASHES.join(", ")}`,
        { hashAlgorithm: algorithm, backend: "bigquery" },
      );
    const full = hash(expr);
    return truncation === null ? full : `SUBSTR(${full}, 1, ${truncation})`;
  },
  /** A NULL value stays an entry with a NULL value: it reads as a missing key, and is never hashed. */
  map(keys: readonly string[], values: readonly string[]): string {
    if (keys.length === 0) return `CAST([] AS ${STRING_MAP})`;
    return `[${keys.map((k, i) => `STRUCT(${bigqueryDialect.string(k)} AS key, ${values[i]} AS value)`).join(", ")}]`;
  },
  mapIsNull: (mapExpr) => `(COALESCE(ARRAY_LENGTH(${mapExpr}), 0) = 0)`,
  mapGet(mapExpr: string, key: string): string {
    return `(SELECT e.value FROM UNNEST(${mapExpr}) AS e WHERE e.key = ${bigqueryDialect.string(key)} LIMIT 1)`;
  },
  /** Python Metaxy's default layout: a STRUCT with one STRING field per feature field. */
  structGet: (structExpr, key) => `${structExpr}.${bigqueryDialect.quoteIdent(key)}`,
  diffShape: "union",
  // BigQuery's ANY_VALUE skips NULLs, as the union diff needs.
  anyValue: (expr) => `ANY_VALUE(${expr})`,
  isDistinctFrom: (a, b) => `(${a} IS DISTINCT FROM ${b})`,
  orderedStringAgg: (expr, separator, orderBy) => `STRING_AGG(${expr}, ${separator} ORDER BY ${orderBy})`,
  toText: (expr) => `CAST(${expr} AS STRING)`,
  /** A window and a filter (not QUALIFY, which older BigQuery releases refuse without WHERE). */
  firstPerPartition: (select, partitionBy, orderBy) =>
    `SELECT * EXCEPT (__metaxy_rn) FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY ${partitionBy.join(", ")} ORDER BY ${orderBy}) AS __metaxy_rn FROM (${select})) WHERE __metaxy_rn = 1`,
  semiJoin: (left, right, on) =>
    `SELECT f.* FROM ${left} AS f WHERE EXISTS (SELECT 1 FROM ${right} AS o WHERE ${on})`,
  sameKey: (a, b) => `(${a} IS NOT DISTINCT FROM ${b})`,
  allExcept: (alias, columns) => `${alias}.* EXCEPT (${columns.join(", ")})`,
};

export const q = bigqueryDialect.quoteIdent;

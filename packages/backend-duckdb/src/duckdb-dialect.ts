import type { ColumnType, HashAlgorithm } from "@metaxy/core";
import type { SqlDialect } from "@metaxy/backend-sql";

/** How Metaxy speaks DuckDB SQL: quoting, types, hashes, the `*_by_field` maps and DuckDB's own syntax. */
export const duckdbDialect: SqlDialect = {
  name: "duckdb",
  quoteIdent(name: string): string {
    return `"${name.replaceAll('"', '""')}"`;
  },
  /** A VARCHAR literal; NUL characters (which would end the statement text) as `chr(0)`. */
  string(value: string): string {
    const quoted = `'${value.replaceAll("'", "''")}'`;
    return value.includes("\u0000") ? `(${quoted.replaceAll("\u0000", "' || chr(0) || '")})` : quoted;
  },
  typeName(type: ColumnType): string {
    switch (type) {
      case "string":
        return "VARCHAR";
      case "integer":
        return "BIGINT";
      case "float":
        return "DOUBLE";
      case "boolean":
        return "BOOLEAN";
      case "timestamp":
        return "TIMESTAMPTZ";
      case "timestamp_ntz":
        return "TIMESTAMP";
      case "json":
        return "JSON";
      case "map":
        return "MAP(VARCHAR, VARCHAR)";
    }
  },
  /** Record-level hash of a VARCHAR expression, rendered as core renders it, then truncated. */
  hash(algorithm: HashAlgorithm, expr: string, truncation: number | null): string {
    const full =
      algorithm === "md5"
        ? `md5(${expr})`
        : algorithm === "sha256"
          ? `sha256(${expr})`
          : `metaxy_${algorithm}(${expr})`;
    return truncation === null ? full : `left(${full}, ${truncation})`;
  },
  /** `MAP(VARCHAR, VARCHAR)` from parallel key / value expressions. */
  map(keys: readonly string[], values: readonly string[]): string {
    if (keys.length === 0) return "MAP {}::MAP(VARCHAR, VARCHAR)";
    return `map([${keys.map((k) => duckdbDialect.string(k)).join(", ")}], [${values.join(", ")}])`;
  },
  mapGet(mapExpr: string, key: string): string {
    return `map_extract_value(${mapExpr}, ${duckdbDialect.string(key)})`;
  },
  anyValue: (expr) => `any_value(${expr})`,
  isDistinctFrom: (a, b) => `${a} IS DISTINCT FROM ${b}`,
  orderedStringAgg: (expr, separator, orderBy) => `string_agg(${expr}, ${separator} ORDER BY ${orderBy})`,
  toText: (expr) => `(${expr})::VARCHAR`,
  firstPerPartition: (select, partitionBy, orderBy) =>
    `${select} QUALIFY row_number() OVER (PARTITION BY ${partitionBy.join(", ")} ORDER BY ${orderBy}) = 1`,
  // Append order: DuckDB's rowid grows with every insert into a table.
  latestTieBreak: ["rowid DESC"],
  semiJoin: (left, right, on) => `SELECT f.* FROM ${left} f SEMI JOIN ${right} o ON ${on}`,
  allExcept: (alias, columns) => `${alias}.* EXCLUDE (${columns.join(", ")})`,
};

export const q = duckdbDialect.quoteIdent;
export const s = duckdbDialect.string;

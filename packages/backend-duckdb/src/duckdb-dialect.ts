import type { ColumnType, HashAlgorithm, Literal } from "@metaxy/core";
import { sqlLiteral } from "@metaxy/core/backend";
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
  /** DuckDB statements take values as escaped literals (the SQL stays self-contained). */
  bind(value: Literal | Date): string {
    if (value instanceof Date) return `make_timestamptz(${BigInt(value.getTime()) * 1000n})`;
    return typeof value === "string" ? duckdbDialect.string(value) : sqlLiteral(value);
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
  structGet: (structExpr, key) => `struct_extract(${structExpr}, ${duckdbDialect.string(key)})`,
  anyValue: (expr) => `any_value(${expr})`,
  isDistinctFrom: (a, b) => `${a} IS DISTINCT FROM ${b}`,
  orderedStringAgg: (expr, separator, orderBy) => `string_agg(${expr}, ${separator} ORDER BY ${orderBy})`,
  toText: (expr) => `(${expr})::VARCHAR`,
  firstPerPartition: (select, partitionBy, orderBy) =>
    `${select} QUALIFY row_number() OVER (PARTITION BY ${partitionBy.join(", ")} ORDER BY ${orderBy}) = 1`,
  sameKey: (a, b) => `${a} IS NOT DISTINCT FROM ${b}`,
  semiJoin: (left, right, on) => `SELECT f.* FROM ${left} f SEMI JOIN ${right} o ON ${on}`,
  allExcept: (alias, columns) => `${alias}.* EXCLUDE (${columns.join(", ")})`,
};

export const q = duckdbDialect.quoteIdent;
export const s = duckdbDialect.string;

/**
 * Field names of a DuckDB STRUCT type as DESCRIBE spells it (`STRUCT(frames VARCHAR, "a/b"
 * VARCHAR)`), or null for any other type.
 */
export function structFields(type: string): string[] | null {
  if (!type.startsWith("STRUCT(") || !type.endsWith(")")) return null;
  const body = type.slice("STRUCT(".length, -1);
  const names: string[] = [];
  let i = 0;
  while (i < body.length) {
    let name = "";
    if (body[i] === '"') {
      for (i++; i < body.length; i++) {
        if (body[i] === '"' && body[i + 1] === '"') {
          name += '"';
          i++;
        } else if (body[i] === '"') break;
        else name += body[i];
      }
      i++;
    } else while (i < body.length && body[i] !== " ") name += body[i++];
    names.push(name);
    // skip the field's type, up to the next top-level comma
    for (let depth = 0; i < body.length; i++) {
      if (body[i] === "(") depth++;
      else if (body[i] === ")") depth--;
      else if (body[i] === "," && depth === 0) break;
    }
    i++;
    while (body[i] === " ") i++;
  }
  return names;
}

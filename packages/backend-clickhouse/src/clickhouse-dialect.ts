import type { SqlDialect, SqlParams } from "@metaxy/backend-sql";
import { type ColumnType, type HashAlgorithm, type Literal, ValidationError } from "@metaxy/core";

/** The `*_by_field` columns: ClickHouse has no Nullable(Map), so a missing map is stored empty. */
export const STRING_MAP = "Map(String, String)";
export const TIMESTAMP = "DateTime64(6, 'UTC')";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A Date as ClickHouse parses a `DateTime64(6, 'UTC')` value: `YYYY-MM-DD hh:mm:ss.ffffff`. */
export function timestampText(date: Date): string {
  const iso = date.toISOString();
  if (iso.length !== 24)
    throw new ValidationError(`Timestamp ${iso} is outside the range ClickHouse's DateTime64 stores`, {
      value: iso,
    });
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

/** The placeholder type and the value sent for one bound value. */
function parameter(value: Literal | Date): [type: string, value: string | number | boolean] {
  if (value instanceof Date) return [TIMESTAMP, timestampText(value)];
  switch (typeof value) {
    case "string":
      return ["String", value];
    case "boolean":
      return ["Bool", value];
    case "bigint":
      return [value >= INT64_MIN && value <= INT64_MAX ? "Int64" : "Int128", value.toString()];
    case "number":
      if (Number.isInteger(value) && Number.isSafeInteger(value)) return ["Int64", String(value)];
      if (!Number.isFinite(value))
        throw new ValidationError(`Cannot bind ${value} as a ClickHouse value`, { value: String(value) });
      return ["Float64", String(value)];
    default:
      throw new ValidationError(`Cannot bind a ${typeof value} as a ClickHouse value`, {
        value: String(value),
      });
  }
}

const hashes: Record<HashAlgorithm, (expr: string) => string> = {
  md5: (e) => `lower(hex(MD5(${e})))`,
  sha256: (e) => `lower(hex(SHA256(${e})))`,
  // Unsigned decimal renderings, seed 0, as core's `hashString` renders them.
  xxhash64: (e) => `toString(xxHash64(${e}))`,
  xxhash32: (e) => `toString(xxHash32(${e}))`,
  xxh3_64: (e) => `toString(xxh3(${e}))`,
};

/**
 * How Metaxy speaks ClickHouse SQL. Every user value is a server-side parameter (`{p0:String}`),
 * never spliced; hashes are ClickHouse's own functions, equal to core's byte for byte; maps are
 * `Map(String, String)` and a missing key reads as NULL, as in the other engines.
 */
export const clickhouseDialect: SqlDialect = {
  name: "clickhouse",
  quoteIdent(name: string): string {
    return `\`${name.replaceAll("\\", "\\\\").replaceAll("`", "\\`")}\``;
  },
  /** A String literal: backslash, quote and NUL escaped (ClickHouse reads `\\`, `\'`, `\0`). */
  string(value: string): string {
    return `'${value.replaceAll("\\", "\\\\").replaceAll("'", "\\'").replaceAll("\u0000", "\\0")}'`;
  },
  /** A `{pN:Type}` placeholder; NULL is the keyword (there is no value to send). */
  bind(value: Literal | Date, params: SqlParams): string {
    if (value === null) return "NULL";
    const [type, sent] = parameter(value);
    let i = Object.keys(params).length;
    while (`p${i}` in params) i++;
    params[`p${i}`] = sent;
    return `{p${i}:${type}}`;
  },
  typeName(type: ColumnType): string {
    switch (type) {
      case "string":
      case "json":
        return "Nullable(String)";
      case "integer":
        return "Nullable(Int64)";
      case "float":
        return "Nullable(Float64)";
      case "boolean":
        return "Nullable(Bool)";
      // Python's snapshot table keeps UTC wall time without a zone: ClickHouse stores it in UTC too.
      case "timestamp":
      case "timestamp_ntz":
        return `Nullable(${TIMESTAMP})`;
      case "map":
        return STRING_MAP;
    }
  },
  hash(algorithm: HashAlgorithm, expr: string, truncation: number | null): string {
    const full = hashes[algorithm](expr);
    return truncation === null ? full : `substring(${full}, 1, ${truncation})`;
  },
  map(keys: readonly string[], values: readonly string[]): string {
    if (keys.length === 0) return `CAST(map() AS ${STRING_MAP})`;
    return `map(${keys.map((k, i) => `${clickhouseDialect.string(k)}, ${values[i]}`).join(", ")})`;
  },
  /** ClickHouse has no Nullable(Map): a missing `*_by_field` value is stored (and read) empty. */
  mapIsNull: (mapExpr) => `empty(${mapExpr})`,
  mapGet(mapExpr: string, key: string): string {
    const k = clickhouseDialect.string(key);
    return `if(mapContains(${mapExpr}, ${k}), ${mapExpr}[${k}], NULL)`;
  },
  /** A named Tuple's field, NULL when the tuple has no such field. Metaxy creates no tuple columns here. */
  structGet: (structExpr, key) => `tupleElement(${structExpr}, ${clickhouseDialect.string(key)}, NULL)`,
  anyValue: (expr) => `any(${expr})`,
  isDistinctFrom: (a, b) => `(${a} IS DISTINCT FROM ${b})`,
  /** ClickHouse aggregates take no ORDER BY: collect (key, value) pairs, sort, join; NULLs skipped. */
  orderedStringAgg(expr: string, separator: string, orderBy: string): string {
    const pairs = `arrayFilter(x -> isNotNull(x.2), groupArray(tuple(tuple(${orderBy}), ${expr})))`;
    return `if(empty(${pairs}), NULL, arrayStringConcat(arrayMap(x -> assumeNotNull(x.2), arraySort(x -> x.1, ${pairs})), ${separator}))`;
  },
  toText: (expr) => `toString(${expr})`,
  firstPerPartition: (select, partitionBy, orderBy) =>
    `${select} ORDER BY ${partitionBy.join(", ")}, ${orderBy} LIMIT 1 BY ${partitionBy.join(", ")}`,
  sameKey: (a, b) => `isNotDistinctFrom(${a}, ${b})`,
  semiJoin: (left, right, on) => `SELECT f.* FROM ${left} AS f LEFT SEMI JOIN ${right} AS o ON ${on}`,
  allExcept: (alias, columns) => `${alias}.* EXCEPT (${columns.join(", ")})`,
};

export const q = clickhouseDialect.quoteIdent;
export const s = clickhouseDialect.string;

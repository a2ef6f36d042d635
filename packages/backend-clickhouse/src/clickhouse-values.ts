import { describeValue } from "@metaxy/backend-sql";
import { MetadataSchemaError, type Row } from "@metaxy/core";
import { STRING_MAP, timestampText } from "./clickhouse-dialect.js";

/** The ClickHouse type without `Nullable(...)` / `LowCardinality(...)` around it. */
export function baseType(type: string): string {
  let t = type.trim();
  for (;;) {
    const m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(t);
    if (!m) return t;
    t = m[1];
  }
}

type Decode = (value: unknown) => unknown;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const identity: Decode = (v) => v;
/** 64-bit integers arrive quoted (output_format_json_quote_64bit_integers): safe ones become numbers. */
const integer: Decode = (v) => {
  if (typeof v !== "string") return v;
  const b = BigInt(v);
  return b <= MAX_SAFE && b >= -MAX_SAFE ? Number(b) : b;
};
const timestamp: Decode = (v) => (typeof v === "string" ? new Date(`${v.replace(" ", "T")}Z`) : v);
const float: Decode = (v) =>
  v === "nan" ? Number.NaN : v === "inf" || v === "+inf" ? Infinity : v === "-inf" ? -Infinity : v;

/** How a value of a ClickHouse result column (as JSONCompact formats spell types) becomes a JS value. */
export function decoderFor(type: string): Decode {
  const t = baseType(type);
  if (/^U?Int(64|128|256)$/.test(t)) return integer;
  if (t.startsWith("DateTime")) return timestamp;
  if (t.startsWith("Float")) return float;
  return identity;
}

/**
 * Rows for a JSONEachRow insert into columns `columns` ([name, ClickHouse type]): timestamps as
 * `YYYY-MM-DD hh:mm:ss.ffffff`, maps as string-valued objects (a null map stored empty, null values
 * left out so that a missing key reads NULL), JSON columns as text, big integers as strings.
 * No coercion: a value of the wrong kind is a MetadataSchemaError (core checks first; this is the backstop).
 */
export function encodeRows(
  table: string,
  columns: ReadonlyArray<[string, string]>,
  rows: readonly Row[],
): Record<string, unknown>[] {
  const encoders = columns.map(([name, type]) => [name, encoderFor(table, name, type)] as const);
  return rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const [name, encode] of encoders) {
      const v = row[name];
      if (v !== undefined) out[name] = encode(v);
    }
    return out;
  });
}

function encoderFor(table: string, column: string, type: string): (v: unknown) => unknown {
  const reject = (value: unknown): never => {
    throw new MetadataSchemaError(
      `Cannot store ${describeValue(value)} in column "${column}" (${type}) of table "${table}"`,
      {
        column,
        table,
      },
    );
  };
  const t = baseType(type.replace(/ \(json\)$/, ""));
  const json = type.endsWith(" (json)");
  if (type === STRING_MAP)
    return (v) => {
      if (v === null) return {};
      if (typeof v !== "object" || Array.isArray(v)) return reject(v);
      const out: Record<string, string> = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>))
        if (x !== null && x !== undefined) out[k] = String(x);
      return out;
    };
  if (json) return (v) => (v === null ? null : typeof v === "string" ? v : JSON.stringify(v));
  if (t === "String") return (v) => (v === null ? null : typeof v === "string" ? v : reject(v));
  if (/^U?Int\d+$/.test(t))
    return (v) => {
      if (v === null) return null;
      if (typeof v === "bigint") return v.toString();
      return typeof v === "number" && Number.isInteger(v) ? v : reject(v);
    };
  if (t.startsWith("Float"))
    return (v) => {
      if (v === null) return null;
      if (typeof v === "bigint") return Number(v);
      if (typeof v !== "number") return reject(v);
      return Number.isFinite(v) ? v : Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
    };
  if (t === "Bool") return (v) => (v === null ? null : typeof v === "boolean" ? v : reject(v));
  if (t.startsWith("DateTime"))
    return (v) => {
      if (v === null) return null;
      const d = v instanceof Date ? v : typeof v === "string" ? new Date(v) : null;
      if (!d || Number.isNaN(d.getTime())) return reject(v);
      return timestampText(d);
    };
  return (v) => v;
}

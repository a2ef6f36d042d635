import {
  type DuckDBAppender,
  type DuckDBDataChunk,
  type DuckDBType,
  DuckDBTypeId,
  JSDuckDBValueConverter,
  type DuckDBValue,
  MAP,
  VARCHAR,
  mapValue,
  timestampTZValue,
} from "@duckdb/node-api";
import { MetadataSchemaError, type Row } from "@metaxy/core";

const STRING_MAP = MAP(VARCHAR, VARCHAR);

/** Appends one value with the appender call matching the column's DuckDB type. */
export function appendValue(
  appender: DuckDBAppender,
  type: string,
  value: unknown,
  table: string,
  column: string,
): void {
  if (value === null || value === undefined) {
    appender.appendNull();
    return;
  }
  // No coercion: "false" is not stored as true, nor "abc" as NaN (core checks first; this is the backstop).
  const reject = (): never => {
    throw new MetadataSchemaError(
      `Cannot store ${describe(value)} in column "${column}" (${type}) of table "${table}"`,
      { column, table },
    );
  };
  const integer = typeof value === "bigint" || (typeof value === "number" && Number.isInteger(value));
  try {
    switch (type) {
      case "VARCHAR":
        if (typeof value !== "string") reject();
        appender.appendVarchar(value as string);
        return;
      case "BIGINT":
        if (!integer) reject();
        appender.appendBigInt(BigInt(value as number | bigint));
        return;
      case "UBIGINT":
        if (!integer) reject();
        appender.appendUBigInt(BigInt(value as number | bigint));
        return;
      case "INTEGER":
        if (!integer) reject();
        appender.appendInteger(Number(value));
        return;
      case "DOUBLE":
        if (typeof value !== "number" && typeof value !== "bigint") reject();
        appender.appendDouble(Number(value));
        return;
      case "BOOLEAN":
        if (typeof value !== "boolean") reject();
        appender.appendBoolean(value as boolean);
        return;
      case "TIMESTAMP WITH TIME ZONE": {
        const ms = toDate(value).getTime();
        if (Number.isNaN(ms)) reject();
        appender.appendTimestampTZ(timestampOf(ms));
        return;
      }
      case "JSON":
        appender.appendVarchar(typeof value === "string" ? value : JSON.stringify(value));
        return;
      case "MAP(VARCHAR, VARCHAR)":
        appender.appendValue(
          mapValue(
            Object.entries(value as Record<string, unknown>).map(([key, v]) => ({
              key,
              value: v === null || v === undefined ? null : String(v),
            })),
          ),
          STRING_MAP,
        );
        return;
      default:
        appender.appendValue(value as DuckDBValue);
    }
  } catch (e) {
    if (e instanceof MetadataSchemaError) throw e;
    throw new MetadataSchemaError(
      `Cannot store ${describe(value)} in column "${column}" (${type}) of table "${table}"`,
      { column, table },
      { cause: e },
    );
  }
}

function describe(value: unknown): string {
  if (value instanceof Date) return `date ${value.toISOString()}`;
  if (typeof value === "bigint") return `bigint ${value}`;
  const shown = JSON.stringify(value) ?? String(value);
  return `${Array.isArray(value) ? "array" : typeof value} ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`;
}

// Rows of one write share their timestamps: convert each distinct millisecond once.
let lastMs = Number.NaN;
let lastTimestamp = timestampTZValue(0n);
function timestampOf(ms: number) {
  if (ms !== lastMs) {
    lastMs = ms;
    lastTimestamp = timestampTZValue(BigInt(ms) * 1000n);
  }
  return lastTimestamp;
}

function toDate(v: unknown): Date {
  return v instanceof Date ? v : new Date(v as string);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

type ColumnConverter = (value: unknown) => unknown;

const identity: ColumnConverter = (v) => v;
const bigintToNumber: ColumnConverter = (v) =>
  typeof v === "bigint" && v <= MAX_SAFE && v >= MIN_SAFE ? Number(v) : v;
const mapToObject: ColumnConverter = (v) => {
  if (v === null) return null;
  const obj: Record<string, unknown> = {};
  for (const e of (v as { entries: { key: string; value: unknown }[] }).entries) obj[e.key] = e.value;
  return obj;
};
const timestampToDate: ColumnConverter = (v) =>
  v === null ? null : new Date(Number((v as { micros: bigint }).micros / 1000n));

function converterFor(typeId: DuckDBTypeId): ColumnConverter | null {
  switch (typeId) {
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.DOUBLE:
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.TINYINT:
      return identity;
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
      return bigintToNumber;
    case DuckDBTypeId.MAP:
      return mapToObject;
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP:
      return timestampToDate;
    default:
      return null; // everything else goes through the package's JS conversion
  }
}

/**
 * Converts one result chunk column by column into Metaxy rows: one type switch per column instead
 * of per value, maps straight to objects, safe bigints to numbers, timestamps to Dates.
 */
export function rowsFromChunk(
  names: readonly string[],
  types: readonly DuckDBType[],
  chunk: DuckDBDataChunk,
): Row[] {
  const n = chunk.rowCount;
  const rows: Row[] = new Array(n);
  for (let r = 0; r < n; r++) rows[r] = {};
  for (let c = 0; c < names.length; c++) {
    const name = names[c];
    const convert = converterFor(types[c].typeId);
    const values = convert ? chunk.getColumnValues(c) : chunk.convertColumnValues(c, JSDuckDBValueConverter);
    const fn = convert ?? bigintToNumber;
    for (let r = 0; r < n; r++) rows[r][name] = fn(values[r]);
  }
  return rows;
}

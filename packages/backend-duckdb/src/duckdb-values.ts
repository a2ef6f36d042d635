import {
  type DuckDBAppender,
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
  try {
    switch (type) {
      case "VARCHAR":
        appender.appendVarchar(typeof value === "string" ? value : String(value));
        return;
      case "BIGINT":
        appender.appendBigInt(BigInt(value as number | bigint));
        return;
      case "UBIGINT":
        appender.appendUBigInt(BigInt(value as number | bigint));
        return;
      case "INTEGER":
        appender.appendInteger(Number(value));
        return;
      case "DOUBLE":
        appender.appendDouble(Number(value));
        return;
      case "BOOLEAN":
        appender.appendBoolean(Boolean(value));
        return;
      case "TIMESTAMP WITH TIME ZONE":
        appender.appendTimestampTZ(timestampOf(toDate(value).getTime()));
        return;
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
    throw new MetadataSchemaError(
      `Cannot store ${JSON.stringify(value)} in column "${column}" (${type}) of table "${table}"`,
      {
        column,
        table,
        cause: String(e),
      },
    );
  }
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

/**
 * DuckDB JS values → Metaxy rows, in place: MAP columns (listed in `mapColumns`) become objects,
 * bigints within the safe range become numbers.
 */
export function fromDuckdbRow(row: Record<string, unknown>, mapColumns: readonly string[]): Row {
  for (const k in row) {
    const v = row[k];
    if (typeof v === "bigint" && v <= MAX_SAFE && v >= MIN_SAFE) row[k] = Number(v);
  }
  for (const k of mapColumns) {
    const v = row[k];
    if (Array.isArray(v)) {
      const obj: Record<string, unknown> = {};
      for (const e of v as { key: string; value: unknown }[]) obj[e.key] = e.value;
      row[k] = obj;
    }
  }
  return row;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

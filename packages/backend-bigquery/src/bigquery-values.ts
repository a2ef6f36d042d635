import { describeValue } from "@metaxy/backend-sql";
import { MetadataSchemaError, type Row } from "@metaxy/core";
import { bigqueryDialect } from "./bigquery-dialect.js";

/** A column of a BigQuery table or result as the REST API describes it. */
export interface BigQueryField {
  readonly name: string;
  readonly type: string;
  readonly mode?: string;
  readonly fields?: readonly BigQueryField[];
}

/** The GoogleSQL spelling of a field's type, as `describe` reports it (`ARRAY<STRUCT<key STRING, ...>>`). */
export function typeText(field: BigQueryField): string {
  const base = ((): string => {
    switch (field.type) {
      case "INTEGER":
        return "INT64";
      case "FLOAT":
        return "FLOAT64";
      case "BOOLEAN":
        return "BOOL";
      case "RECORD":
      case "STRUCT":
        return `STRUCT<${(field.fields ?? []).map((f) => `${f.name} ${typeText(f)}`).join(", ")}>`;
      default:
        return field.type;
    }
  })();
  return field.mode === "REPEATED" ? `ARRAY<${base}>` : base;
}

/** Whether a field is a `*_by_field` map: a repeated (key STRING, value STRING) record. */
function isMap(field: BigQueryField): boolean {
  return (
    field.mode === "REPEATED" &&
    (field.type === "RECORD" || field.type === "STRUCT") &&
    field.fields?.length === 2 &&
    field.fields[0].name === "key" &&
    field.fields[1].name === "value"
  );
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** INT64 text (the client's `integerTypeCastFunction`): safe values as numbers, others as bigints. */
export function integerValue(text: string): number | bigint {
  const b = BigInt(text);
  return b <= MAX_SAFE && b >= -MAX_SAFE ? Number(b) : b;
}

type Decode = (value: unknown) => unknown;

/** The client's parsed value of a column (wrapped timestamps, record arrays) as a Metaxy value. */
function decoderFor(field: BigQueryField): Decode {
  if (isMap(field))
    return (v) => {
      if (v === null || v === undefined) return {};
      const out: Record<string, string> = {};
      for (const e of v as Array<{ key: string; value: string | null }>)
        if (e.value !== null) out[e.key] = e.value;
      return out;
    };
  if (field.mode === "REPEATED") return (v) => v;
  switch (field.type) {
    case "TIMESTAMP":
      return (v) => (v === null || v === undefined ? null : new Date((v as { value: string }).value));
    case "DATETIME":
      // Wall time without a zone (Python's snapshot timestamps): read as UTC.
      return (v) => (v === null || v === undefined ? null : new Date(`${(v as { value: string }).value}Z`));
    default:
      return (v) => (v === undefined ? null : v);
  }
}

/** Decoders for the columns of a result. */
export function rowDecoder(fields: readonly BigQueryField[]): (raw: Record<string, unknown>) => Row {
  const decoders = fields.map((f) => [f.name, decoderFor(f)] as const);
  return (raw) => {
    const row: Row = {};
    for (const [name, decode] of decoders) row[name] = decode(raw[name]);
    return row;
  };
}

/**
 * How one target column travels through a write's staging table: the staging columns that carry
 * it as text (a map as parallel key and value arrays), and the SQL that rebuilds the value from
 * them. Text travels through every load path unchanged — the emulator's JSON loader assigns the
 * fields of nested records in random order and stores NaN as NULL — and the casts are BigQuery's
 * own (`CAST('NaN' AS FLOAT64)`, `TIMESTAMP('…Z')`, `PARSE_JSON`).
 */
export interface StagedColumn {
  readonly name: string;
  readonly type: string;
  /** Staging columns: name → type. */
  readonly staging: ReadonlyArray<[string, string]>;
  /** The value rebuilt from the staging row `s`. */
  readonly select: string;
  /** The staging fields of one value (undefined: the value is NULL). */
  encode(value: unknown): Record<string, unknown> | undefined;
}

/** Staging plan of `columns` ([name, type text]) of `table`; `structFields` for Python's struct layout. */
export function stagedColumns(
  table: string,
  columns: ReadonlyArray<[string, string]>,
  structFields: (type: string) => string[] | null,
): StagedColumn[] {
  return columns.map(([name, type], i) => stagedColumn(table, name, type, `c${i}`, structFields(type)));
}

const quote = bigqueryDialect.quoteIdent;
const literal = bigqueryDialect.string;

function stagedColumn(
  table: string,
  name: string,
  type: string,
  c: string,
  struct: string[] | null,
): StagedColumn {
  const reject = (value: unknown): never => {
    throw new MetadataSchemaError(
      `Cannot store ${describeValue(value)} in column "${name}" (${type}) of table "${table}"`,
      { column: name, table },
    );
  };
  const text = (sql: (col: string) => string, encode: (v: unknown) => string) => ({
    name,
    type,
    staging: [[c, "STRING"]] as Array<[string, string]>,
    select: sql(`s.${c}`),
    encode: (v: unknown) => (v === null || v === undefined ? undefined : { [c]: encode(v) }),
  });
  if (type === "ARRAY<STRUCT<key STRING, value STRING>>" || struct) {
    const [k, v] = [`${c}_k`, `${c}_v`];
    const entries = (value: unknown) => {
      if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Date)
        return reject(value);
      const pairs = Object.entries(value as Record<string, unknown>).filter(
        ([, x]) => x !== null && x !== undefined,
      );
      for (const [key, x] of pairs) {
        if (typeof x !== "string") reject(value);
        if (struct && !struct.includes(key))
          throw new MetadataSchemaError(
            `Column "${name}" of table "${table}" is a STRUCT without field "${key}" (Python Metaxy's struct layout): BigQuery cannot add a field to a stored STRUCT in a write`,
            { column: name, table, field: key },
          );
      }
      return { [k]: pairs.map(([key]) => key), [v]: pairs.map(([, x]) => x) };
    };
    const lookup = (field: string) =>
      `(SELECT s.${v}[OFFSET(o)] FROM UNNEST(s.${k}) AS k WITH OFFSET o WHERE k = ${literal(field)})`;
    return {
      name,
      type,
      staging: [
        [k, "ARRAY<STRING>"],
        [v, "ARRAY<STRING>"],
      ],
      select: struct
        ? `IF(s.${k} IS NULL, NULL, STRUCT(${struct.map((f) => `${lookup(f)} AS ${quote(f)}`).join(", ")}))`
        : `ARRAY(SELECT AS STRUCT k AS key, s.${v}[OFFSET(o)] AS value FROM UNNEST(s.${k}) AS k WITH OFFSET o ORDER BY o)`,
      encode: (value) => (value === null || value === undefined ? undefined : entries(value)),
    };
  }
  switch (type) {
    case "STRING":
      return text(
        (col) => col,
        (v) => (typeof v === "string" ? v : reject(v)),
      );
    case "JSON":
      return text(
        (col) => `PARSE_JSON(${col})`,
        (v) => (typeof v === "bigint" ? reject(v) : JSON.stringify(v)),
      );
    case "INT64":
      return text(
        (col) => `CAST(${col} AS INT64)`,
        (v) =>
          typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v)) ? String(v) : reject(v),
      );
    case "FLOAT64":
      return text(
        (col) => `CAST(${col} AS FLOAT64)`,
        (v) => {
          const n = typeof v === "bigint" ? Number(v) : v;
          if (typeof n !== "number") return reject(v);
          return Number.isNaN(n) ? "NaN" : n === Infinity ? "inf" : n === -Infinity ? "-inf" : String(n);
        },
      );
    case "BOOL":
      return text(
        (col) => `CAST(${col} AS BOOL)`,
        (v) => (typeof v === "boolean" ? String(v) : reject(v)),
      );
    case "TIMESTAMP":
    case "DATETIME":
      return text(
        (col) => (type === "TIMESTAMP" ? `TIMESTAMP(${col})` : `DATETIME(TIMESTAMP(${col}))`),
        (v) => {
          const d = v instanceof Date ? v : typeof v === "string" ? new Date(v) : null;
          if (!d || Number.isNaN(d.getTime())) return reject(v);
          return d.toISOString();
        },
      );
    default:
      throw new MetadataSchemaError(
        `Metaxy cannot write column "${name}" of type ${type} in table "${table}"`,
        {
          column: name,
          table,
        },
      );
  }
}

/** Rows as newline-delimited JSON for the staging table of `columns`. */
export function stagingNdjson(columns: readonly StagedColumn[], rows: readonly Row[]): string {
  let out = "";
  for (const row of rows) {
    const line: Record<string, unknown> = {};
    for (const col of columns) Object.assign(line, col.encode(row[col.name]));
    out += `${JSON.stringify(line)}\n`;
  }
  return out;
}

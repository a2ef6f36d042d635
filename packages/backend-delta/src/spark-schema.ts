import type { ColumnType } from "@metaxy/core";
import type { TableSchema } from "@metaxy/core/backend";
import type { Metadata } from "./delta-log.js";

// Delta's schema serialization (PROTOCOL.md "Schema Serialization Format"): Spark's JSON.

export type SparkType =
  | string
  | { type: "map"; keyType: SparkType; valueType: SparkType; valueContainsNull: boolean }
  | { type: "array"; elementType: SparkType; containsNull: boolean }
  | { type: "struct"; fields: StructField[] };

export interface StructField {
  name: string;
  type: SparkType;
  nullable: boolean;
  metadata: Record<string, unknown>;
}

/** Field metadata naming the logical type where the Spark type alone loses it (json as string). */
const LOGICAL_TYPE = "metaxy.logicalType";

const STRING_MAP: SparkType = {
  type: "map",
  keyType: "string",
  valueType: "string",
  valueContainsNull: true,
};

/** The Delta field a Metaxy column of logical type `type` is stored as. */
export function sparkField(name: string, type: ColumnType): StructField {
  const spark: Record<ColumnType, SparkType> = {
    string: "string",
    integer: "long",
    float: "double",
    boolean: "boolean",
    timestamp: "timestamp", // UTC: Parquet TIMESTAMP(isAdjustedToUTC, MICROS)
    // Delta's timestamp_ntz needs a table feature this backend does not write: UTC instants too.
    timestamp_ntz: "timestamp",
    json: "string",
    map: STRING_MAP,
  };
  return {
    name,
    type: spark[type],
    nullable: true,
    metadata: type === "json" ? { [LOGICAL_TYPE]: "json" } : {},
  };
}

export function fieldsOf(metadata: Metadata | undefined): StructField[] {
  if (!metadata) return [];
  return (JSON.parse(metadata.schemaString) as { fields: StructField[] }).fields;
}

export function schemaString(fields: readonly StructField[]): string {
  return JSON.stringify({ type: "struct", fields });
}

/** Logical type of a Delta field; types Metaxy has no name for (struct, array, binary, date) read as json. */
export function logicalType(field: StructField): ColumnType {
  const t = field.type;
  if (field.metadata?.[LOGICAL_TYPE] === "json") return "json";
  if (typeof t === "string") {
    if (t === "string") return "string";
    if (t === "long" || t === "integer" || t === "short" || t === "byte") return "integer";
    if (t === "double" || t === "float" || t.startsWith("decimal")) return "float";
    if (t === "boolean") return "boolean";
    if (t === "timestamp" || t === "timestamp_ntz") return "timestamp";
    return "json";
  }
  return t.type === "map" ? "map" : "json";
}

export function tableSchemaOf(fields: readonly StructField[]): TableSchema {
  return Object.fromEntries(fields.map((f) => [f.name, logicalType(f)]));
}

/** DuckDB type a Delta field's Parquet column is written as (so files match the table's schema). */
export function physicalDuckType(field: StructField): string | null {
  const t = field.type;
  if (typeof t !== "string") return t.type === "map" ? "MAP(VARCHAR, VARCHAR)" : null;
  const names: Record<string, string> = {
    string: "VARCHAR",
    long: "BIGINT",
    integer: "INTEGER",
    short: "SMALLINT",
    byte: "TINYINT",
    double: "DOUBLE",
    float: "FLOAT",
    boolean: "BOOLEAN",
    timestamp: "TIMESTAMPTZ",
    timestamp_ntz: "TIMESTAMP",
  };
  return names[t] ?? null;
}

/** Whether two fields store the same Parquet type (a file written for one fits the other). */
export function sameType(a: StructField, b: StructField): boolean {
  return JSON.stringify(a.type) === JSON.stringify(b.type);
}

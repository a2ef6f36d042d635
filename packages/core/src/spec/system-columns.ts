/** The ten system columns of every feature table (SPEC §2.4). */
export const PROVENANCE_BY_FIELD = "metaxy_provenance_by_field";
export const PROVENANCE = "metaxy_provenance";
export const DATA_VERSION_BY_FIELD = "metaxy_data_version_by_field";
export const DATA_VERSION = "metaxy_data_version";
export const FEATURE_VERSION = "metaxy_feature_version";
export const PROJECT_VERSION = "metaxy_project_version";
export const CREATED_AT = "metaxy_created_at";
export const UPDATED_AT = "metaxy_updated_at";
export const DELETED_AT = "metaxy_deleted_at";
export const MATERIALIZATION_ID = "metaxy_materialization_id";

export const SYSTEM_COLUMNS = [
  PROVENANCE_BY_FIELD,
  PROVENANCE,
  DATA_VERSION_BY_FIELD,
  DATA_VERSION,
  FEATURE_VERSION,
  PROJECT_VERSION,
  CREATED_AT,
  UPDATED_AT,
  DELETED_AT,
  MATERIALIZATION_ID,
] as const;

export type SystemColumn = (typeof SYSTEM_COLUMNS)[number];

export function isSystemColumn(name: string): boolean {
  return (SYSTEM_COLUMNS as readonly string[]).includes(name);
}

/** Type of each system column, for backends that create tables. */
export const SYSTEM_COLUMN_TYPES: Record<SystemColumn, ColumnType> = {
  [PROVENANCE_BY_FIELD]: "map",
  [PROVENANCE]: "string",
  [DATA_VERSION_BY_FIELD]: "map",
  [DATA_VERSION]: "string",
  [FEATURE_VERSION]: "string",
  [PROJECT_VERSION]: "string",
  [CREATED_AT]: "timestamp",
  [UPDATED_AT]: "timestamp",
  [DELETED_AT]: "timestamp",
  [MATERIALIZATION_ID]: "string",
};

/**
 * Logical column types; each backend maps them to its engine's types. `timestamp_ntz` is a UTC
 * instant stored without a time zone (DuckDB `TIMESTAMP`), as Python Metaxy creates the snapshot
 * table's `recorded_at` / `deleted_at`; reads give a `Date` either way.
 */
export type ColumnType =
  | "string"
  | "integer"
  | "float"
  | "boolean"
  | "timestamp"
  | "timestamp_ntz"
  | "json"
  | "map";

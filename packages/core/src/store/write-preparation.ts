import { MetadataSchemaError } from "../errors.js";
import type { FeatureGraph } from "../graph/feature-graph.js";
import type { Row } from "../plan/resolve-update-plan.js";
import { columnTypesOfSchema } from "../spec/column-types.js";
import type { FeatureDefinition } from "../spec/define-feature.js";
import {
  type ColumnType,
  CREATED_AT,
  DATA_VERSION,
  DATA_VERSION_BY_FIELD,
  DELETED_AT,
  FEATURE_VERSION,
  PROJECT_VERSION,
  PROVENANCE,
  PROVENANCE_BY_FIELD,
  SYSTEM_COLUMN_TYPES,
  UPDATED_AT,
  isSystemColumn,
} from "../spec/system-columns.js";
import type { HashAlgorithm } from "../versioning/hash-algorithms.js";
import { recordProvenance } from "../versioning/record-hash.js";
import type { TableSchema } from "./backend.js";

export interface PrepareWriteOptions {
  graph: FeatureGraph;
  hashAlgorithm: HashAlgorithm;
  truncation: number;
  /** The write's single timestamp. */
  timestamp: Date;
  materializationId: string | null;
  /** Keep the rows' own feature/project versions (copying, rebasing). */
  preserveFeatureVersion: boolean;
  /** Soft delete: keep stored created/updated timestamps. */
  softDelete: boolean;
  /** Validate user columns against the feature's zod schema. */
  validate: boolean;
}

/**
 * Fills the system columns of rows about to be appended (SPEC §4.3) and rejects rows that would
 * corrupt the table: missing provenance, missing id values, unknown or ill-typed columns.
 */
export function prepareWrite(
  def: FeatureDefinition,
  rows: readonly Row[],
  options: PrepareWriteOptions,
): { rows: Row[]; schema: TableSchema } {
  const feature = def.key.toString();
  const fieldKeys = def.spec.fields.map((f) => f.key.toStructKey());
  const featureVersion = options.graph.featureVersion(def.key);
  const projectVersion = options.graph.projectVersion(options.graph.projectOf(def.key));
  const declared = def.schema ? columnTypesOfSchema(def.schema) : null;
  const out: Row[] = new Array(rows.length);

  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const byField = r[PROVENANCE_BY_FIELD];
    if (byField === undefined || byField === null)
      throw new MetadataSchemaError(
        `Cannot write feature "${feature}": row ${i} has no ${PROVENANCE_BY_FIELD}. Copy it from the increment row, or supply it for a root feature.`,
        { feature, column: PROVENANCE_BY_FIELD, row: i },
      );
    if (typeof byField !== "object" || Array.isArray(byField))
      throw new MetadataSchemaError(
        `Cannot write feature "${feature}": row ${i} ${PROVENANCE_BY_FIELD} must be an object of field → version strings`,
        { feature, column: PROVENANCE_BY_FIELD, row: i },
      );
    for (const f of fieldKeys) {
      const v = (byField as Record<string, unknown>)[f];
      if (typeof v !== "string")
        throw new MetadataSchemaError(
          `Cannot write feature "${feature}": row ${i} ${PROVENANCE_BY_FIELD} has no string version for field "${f}"`,
          { feature, field: f, column: PROVENANCE_BY_FIELD, row: i },
        );
    }
    for (const id of def.spec.idColumns)
      if (r[id] === undefined || r[id] === null)
        throw new MetadataSchemaError(
          `Cannot write feature "${feature}": row ${i} has no value for id column "${id}"`,
          {
            feature,
            column: id,
            row: i,
          },
        );
    if (def.schema && options.validate) validateUserColumns(def, r, i);

    const pbf = pickFields(byField as Record<string, string>, fieldKeys);
    const provenance = r[PROVENANCE] ?? recordProvenance(options.hashAlgorithm, pbf, options.truncation);
    const keepVersions = options.preserveFeatureVersion && r[FEATURE_VERSION] && r[PROJECT_VERSION];
    let dataVersionByField: Record<string, string> = pbf;
    let dataVersion = r[DATA_VERSION] ?? null;
    const dvbf = r[DATA_VERSION_BY_FIELD];
    if (dvbf === undefined || dvbf === null) {
      dataVersion ??= provenance;
    } else {
      if (typeof dvbf !== "object")
        throw new MetadataSchemaError(
          `Cannot write feature "${feature}": row ${i} ${DATA_VERSION_BY_FIELD} must be an object`,
          { feature, column: DATA_VERSION_BY_FIELD, row: i },
        );
      // Fields without an override keep their provenance as data version.
      dataVersionByField = { ...pbf };
      for (const k in dvbf as Record<string, unknown>) {
        const v = (dvbf as Record<string, unknown>)[k];
        if (typeof v === "string") dataVersionByField[k] = v;
      }
      dataVersion ??= recordProvenance(options.hashAlgorithm, dataVersionByField, options.truncation);
    }
    // A literal with the system columns, then the user's columns: ~20x faster in V8 than
    // `{ ...r, system columns }`, which hits a slow path when a spread key is overwritten.
    const row: Row = {
      metaxy_provenance_by_field: pbf,
      metaxy_provenance: provenance,
      metaxy_data_version_by_field: dataVersionByField,
      metaxy_data_version: dataVersion,
      metaxy_feature_version: keepVersions ? r[FEATURE_VERSION] : featureVersion,
      metaxy_project_version: keepVersions ? r[PROJECT_VERSION] : projectVersion,
      metaxy_created_at: toDate(r[CREATED_AT], feature, CREATED_AT) ?? options.timestamp,
      metaxy_updated_at: options.softDelete
        ? (toDate(r[UPDATED_AT], feature, UPDATED_AT) ?? options.timestamp)
        : options.timestamp,
      metaxy_deleted_at: toDate(r[DELETED_AT], feature, DELETED_AT),
      metaxy_materialization_id: options.materializationId,
    };
    for (const k in r) if (!(k in row)) row[k] = r[k];
    out[i] = row;
  }
  return { rows: out, schema: tableSchemaOf(def, declared, out) };
}

function pickFields(byField: Record<string, string>, fieldKeys: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fieldKeys) out[f] = byField[f];
  return out;
}

function validateUserColumns(def: FeatureDefinition, row: Row, index: number): void {
  const feature = def.key.toString();
  const shape = def.schema!.shape;
  const user: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (isSystemColumn(k)) continue;
    if (!(k in shape))
      throw new MetadataSchemaError(
        `Cannot write feature "${feature}": row ${index} has column "${k}", which is not in the feature's schema`,
        { feature, column: k, row: index },
      );
    user[k] = v;
  }
  const parsed = def.schema!.safeParse(user);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const column = String(issue.path[0] ?? "");
    throw new MetadataSchemaError(
      `Cannot write feature "${feature}": row ${index} column "${column}": ${issue.message}`,
      { feature, column, row: index },
    );
  }
}

function toDate(v: unknown, feature: string, column: string): Date | null {
  if (v === undefined || v === null) return null;
  if (v instanceof Date) return v;
  if (typeof v === "string" || typeof v === "number") {
    const d = new Date(v);
    if (!Number.isNaN(d.getTime())) return d;
  }
  throw new MetadataSchemaError(
    `Feature "${feature}": ${column} must be a Date or ISO timestamp, got ${JSON.stringify(v)}`,
    {
      feature,
      column,
    },
  );
}

/** Declared column types, else types inferred from the first non-null value of each column. */
export function tableSchemaOf(
  def: FeatureDefinition,
  declared: Record<string, ColumnType> | null,
  rows: readonly Row[],
): TableSchema {
  const schema: Record<string, ColumnType> = { ...(declared ?? {}) };
  const untyped = new Set<string>();
  let lastKeyCount = -1;
  for (const r of rows) {
    // Rows of one write usually share their keys: rescan only when the key set may differ.
    const keys = Object.keys(r);
    if (keys.length === lastKeyCount && untyped.size === 0) continue;
    lastKeyCount = keys.length;
    untyped.clear();
    for (const k of keys) {
      if (k in schema || isSystemColumn(k)) continue;
      const v = r[k];
      if (v === null || v === undefined) untyped.add(k);
      else schema[k] = inferType(v);
    }
  }
  for (const id of def.spec.idColumns) schema[id] ??= "string";
  return { ...schema, ...SYSTEM_COLUMN_TYPES };
}

export function inferType(v: unknown): ColumnType {
  if (typeof v === "string") return "string";
  if (typeof v === "bigint") return "integer";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "float";
  if (typeof v === "boolean") return "boolean";
  if (v instanceof Date) return "timestamp";
  return "json";
}

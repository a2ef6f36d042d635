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
import { tupleKey } from "../engine/row-keys.js";
import { ColumnNames } from "../spec/reserved-columns.js";
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
  /** Logical types of the stored table, null when it does not exist yet. */
  existing: TableSchema | null;
}

/**
 * Fills the system columns of rows about to be appended (SPEC §4.3) and rejects, before anything
 * is stored, rows that would corrupt the table: missing or foreign provenance fields, missing or
 * repeated ids, unknown columns, values that do not fit their column's type.
 */
export function prepareWrite(
  def: FeatureDefinition,
  rows: readonly Row[],
  options: PrepareWriteOptions,
): { rows: Row[]; schema: TableSchema } {
  const feature = def.key.toString();
  const fieldKeys = def.spec.fields.map((f) => f.key.toStructKey());
  const fieldSet = new Set(fieldKeys);
  const featureVersion = options.graph.featureVersion(def.key);
  const projectVersion = options.graph.projectVersion(options.graph.projectOf(def.key));
  const parse = def.schema && options.validate;
  const types = new ColumnTypes(
    feature,
    def.schema ? columnTypesOfSchema(def.schema) : null,
    options.existing,
  );
  const ids = def.spec.idColumns;
  const seenIds = new Map<string, number>();
  const out: Row[] = new Array(rows.length);

  for (let i = 0; i < rows.length; i++) {
    const input = rows[i];
    if (input === null || typeof input !== "object" || Array.isArray(input))
      throw new MetadataSchemaError(
        `Cannot write feature "${feature}": row ${i} is ${input === null ? "null" : typeof input}, not an object`,
        { feature, row: i },
      );
    const byField = input[PROVENANCE_BY_FIELD];
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
    checkFieldMap(feature, i, PROVENANCE_BY_FIELD, byField as Row, fieldKeys, fieldSet, true);
    for (const id of ids)
      if (input[id] === undefined || input[id] === null)
        throw new MetadataSchemaError(
          `Cannot write feature "${feature}": row ${i} has no value for id column "${id}"`,
          { feature, column: id, row: i },
        );
    // One write holds one row per sample (per version when versions are preserved).
    const idKey =
      tupleKey(input, ids) + (options.preserveFeatureVersion ? String(input[FEATURE_VERSION] ?? "") : "");
    const first = options.softDelete ? undefined : seenIds.get(idKey);
    if (first !== undefined)
      throw new MetadataSchemaError(
        `Cannot write feature "${feature}": rows ${first} and ${i} have the same id (${ids.map((c) => `${c}=${JSON.stringify(input[c])}`).join(", ")}); a write holds one row per sample`,
        { feature, column: ids.join(","), row: i, firstRow: first },
      );
    seenIds.set(idKey, i);
    const r = parse ? parseUserColumns(def, input, i) : input;
    if (!parse) types.check(r, i);

    const pbf = byField as Record<string, string>;
    const provenance = r[PROVENANCE] ?? recordProvenance(options.hashAlgorithm, pbf, options.truncation);
    const keepVersions = options.preserveFeatureVersion && r[FEATURE_VERSION] && r[PROJECT_VERSION];
    let dataVersionByField: Record<string, string> = pbf;
    let dataVersion = r[DATA_VERSION] ?? null;
    const dvbf = r[DATA_VERSION_BY_FIELD];
    if (dvbf === undefined || dvbf === null) {
      dataVersion ??= provenance;
    } else {
      if (typeof dvbf !== "object" || Array.isArray(dvbf))
        throw new MetadataSchemaError(
          `Cannot write feature "${feature}": row ${i} ${DATA_VERSION_BY_FIELD} must be an object`,
          { feature, column: DATA_VERSION_BY_FIELD, row: i },
        );
      checkFieldMap(feature, i, DATA_VERSION_BY_FIELD, dvbf as Row, fieldKeys, fieldSet, false);
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
  return { rows: out, schema: types.schema(ids) };
}

/** A `*_by_field` map names exactly the feature's fields (provenance: all of them), with string versions. */
function checkFieldMap(
  feature: string,
  row: number,
  column: string,
  map: Row,
  fieldKeys: readonly string[],
  fieldSet: ReadonlySet<string>,
  complete: boolean,
): void {
  for (const k in map) {
    if (!fieldSet.has(k))
      throw new MetadataSchemaError(
        `Cannot write feature "${feature}": row ${row} ${column} has "${k}", which is not a field of the feature (fields: ${fieldKeys.join(", ")})`,
        { feature, field: k, column, row },
      );
    const v = map[k];
    if (typeof v !== "string" && !(v === null && !complete))
      throw new MetadataSchemaError(
        `Cannot write feature "${feature}": row ${row} ${column} has a non-string version for field "${k}"`,
        { feature, field: k, column, row },
      );
  }
  if (complete)
    for (const f of fieldKeys)
      if (typeof map[f] !== "string")
        throw new MetadataSchemaError(
          `Cannot write feature "${feature}": row ${row} ${column} has no string version for field "${f}"`,
          { feature, field: f, column, row },
        );
}

/** The row with its user columns replaced by what the feature's zod schema parses them to. */
function parseUserColumns(def: FeatureDefinition, row: Row, index: number): Row {
  const feature = def.key.toString();
  const shape = def.schema!.shape;
  const user: Row = {};
  const system: Row = {};
  for (const k in row) {
    if (isSystemColumn(k)) {
      system[k] = row[k];
      continue;
    }
    if (!(k in shape))
      throw new MetadataSchemaError(
        `Cannot write feature "${feature}": row ${index} has column "${k}", which is not in the feature's schema`,
        { feature, column: k, row: index },
      );
    user[k] = row[k];
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
  return Object.assign(system, parsed.data);
}

/**
 * Column types of one write: the stored table's, else the schema's, else inferred from the first
 * non-null value (integers widen to float within the write). Every value must fit its column.
 */
class ColumnTypes {
  readonly #types: Record<string, ColumnType>;
  /** Columns whose type this write inferred (and may still widen). */
  readonly #inferred = new Set<string>();
  /** Every column name so far, to reject new ones that are reserved or differ from one only in case. */
  readonly #names: ColumnNames;

  constructor(
    readonly feature: string,
    declared: Record<string, ColumnType> | null,
    existing: TableSchema | null,
  ) {
    this.#types = { ...(declared ?? {}), ...(existing ?? {}) };
    this.#names = new ColumnNames(feature, Object.keys(this.#types));
  }

  check(row: Row, index: number): void {
    for (const k in row) {
      const v = row[k];
      if (isSystemColumn(k)) continue;
      const type = this.#types[k];
      if (type === undefined) this.#names.add(k, "column", index);
      if (v === null || v === undefined) continue;
      if (type === undefined) {
        this.#types[k] = inferType(v);
        this.#inferred.add(k);
      } else if (!valueFits(type, v)) {
        if (type === "integer" && typeof v === "number" && this.#inferred.has(k)) this.#types[k] = "float";
        else
          throw new MetadataSchemaError(
            `Cannot write feature "${this.feature}": row ${index} column "${k}" is ${describeValue(v)}, which does not fit the column's type ${type}`,
            { feature: this.feature, column: k, row: index, expected: type },
          );
      }
    }
  }

  schema(idColumns: readonly string[]): TableSchema {
    const out: Record<string, ColumnType> = { ...this.#types };
    for (const id of idColumns) out[id] ??= "string";
    return { ...out, ...SYSTEM_COLUMN_TYPES };
  }
}

/** Whether a JS value can be stored in a column of `type` without being changed. */
export function valueFits(type: ColumnType, v: unknown): boolean {
  switch (type) {
    case "string":
      return typeof v === "string";
    case "integer":
      return typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v));
    case "float":
      return typeof v === "number" || typeof v === "bigint";
    case "boolean":
      return typeof v === "boolean";
    case "timestamp":
    case "timestamp_ntz":
      return (
        (v instanceof Date && !Number.isNaN(v.getTime())) ||
        (typeof v === "string" && !Number.isNaN(Date.parse(v)))
      );
    case "map":
      return (
        typeof v === "object" &&
        v !== null &&
        !Array.isArray(v) &&
        Object.values(v).every((x) => x === null || typeof x === "string")
      );
    case "json":
      return typeof v !== "function" && typeof v !== "symbol" && typeof v !== "bigint";
  }
}

function describeValue(v: unknown): string {
  const shown = v instanceof Date ? v.toISOString() : typeof v === "bigint" ? `${v}n` : JSON.stringify(v);
  const kind = Array.isArray(v) ? "array" : v instanceof Date ? "date" : typeof v;
  return `${kind} ${shown === undefined ? String(v) : shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`;
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
  const types = new ColumnTypes(def.key.toString(), declared, null);
  for (const [i, r] of rows.entries()) types.check(r, i);
  return types.schema(def.spec.idColumns);
}

export function inferType(v: unknown): ColumnType {
  if (typeof v === "string") return "string";
  if (typeof v === "bigint") return "integer";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "float";
  if (typeof v === "boolean") return "boolean";
  if (v instanceof Date) return "timestamp";
  return "json";
}

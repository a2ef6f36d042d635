import { ValidationError } from "../errors.js";
import { FeatureKey } from "../keys.js";
import type { ReadQuery } from "../plan/read-query.js";
import type { Row } from "../plan/resolve-update-plan.js";
import type { ColumnType } from "../spec/system-columns.js";
import { PROVENANCE } from "../spec/system-columns.js";
import type { TableSchema, TableWrite } from "./backend.js";
import { inferType } from "./write-preparation.js";

/**
 * Records whose computation failed for good (after an orchestrator's retries). A resolve leaves
 * a record out of new / stale while its expected provenance equals the one it failed at, and
 * counts it as `failed`; a changed upstream or code version changes the provenance and brings it
 * back, and so does `retryFailed: true`. One system table per feature keeps the id columns in
 * their own types, so engines match failures with a plain join.
 */
export interface FailureInfo {
  /** The error text of the last attempt. */
  error: string;
  /** Attempts made before giving up. */
  attempts: number;
  /** The run that gave up (a Temporal workflow id, a job id). */
  runId?: string | null;
}

export const FAILED_AT = "failed_at";
const FAILED_TABLE_PREFIX = `${new FeatureKey("metaxy-system/failed").tableName}__`;

/** `metaxy_system__failed__<feature table>`. */
export function failedRecordsTable(featureTable: string): string {
  return `${FAILED_TABLE_PREFIX}${featureTable}`;
}

/** The failures of a feature, as a plain read (every row, no latest-row collapse). */
export function failuresQuery(table: string, keys: readonly string[]): ReadQuery {
  return {
    table,
    idColumns: keys,
    featureVersion: null,
    latestOnly: false,
    includeSoftDeleted: true,
    filters: [],
    columns: [...keys, PROVENANCE],
  };
}

const INFO_SCHEMA: Record<string, ColumnType> = {
  [PROVENANCE]: "string",
  error: "string",
  attempts: "integer",
  run_id: "string",
  [FAILED_AT]: "timestamp",
};

/**
 * The write of failure rows: `keys` (the increment's key columns) as the increment rows carry
 * them, and the expected record provenance each failed at.
 */
export function failedRecordsWrite(
  feature: string,
  featureTable: string,
  keys: readonly string[],
  rows: readonly Row[],
  info: FailureInfo,
  now: Date,
  existing: TableSchema | null,
): TableWrite {
  if (!Number.isInteger(info.attempts) || info.attempts < 1)
    throw new ValidationError(`attempts must be a positive integer, got ${info.attempts}`, {
      feature,
      attempts: info.attempts,
    });
  const schema: Record<string, ColumnType> = { ...INFO_SCHEMA };
  const out = rows.map((r, row) => {
    const failure: Row = {};
    for (const k of keys) {
      const v = r[k];
      if (v === null || v === undefined)
        throw new ValidationError(`Failed record of "${feature}" has no value for id column "${k}"`, {
          feature,
          column: k,
          row,
        });
      failure[k] = v;
      schema[k] ??= existing?.[k] ?? inferType(v);
    }
    const provenance = r[PROVENANCE];
    if (typeof provenance !== "string")
      throw new ValidationError(
        `Failed record of "${feature}" carries no ${PROVENANCE}: pass the increment's rows`,
        { feature, column: PROVENANCE, row },
      );
    return {
      ...failure,
      [PROVENANCE]: provenance,
      error: info.error,
      attempts: info.attempts,
      run_id: info.runId ?? null,
      [FAILED_AT]: now,
    };
  });
  return { table: failedRecordsTable(featureTable), feature, schema, rows: out };
}

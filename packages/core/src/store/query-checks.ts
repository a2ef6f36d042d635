/**
 * Checks of reads and resolve-update plans against the tables they will run on, so a bad input
 * fails the same way, with a typed error naming the feature and column, on every backend.
 */
import { MetadataSchemaError, ReservedColumnError } from "../errors.js";
import {
  type FilterScope,
  type KnownColumns,
  checkColumnsExist,
  checkFilterColumns,
} from "../filters/filter-columns.js";
import type { Expr } from "../plan/expression.js";
import type { ReadQuery } from "../plan/read-query.js";
import type { ResolveUpdatePlan, Row, UpstreamInput } from "../plan/resolve-update-plan.js";
import { ColumnNames, reservedColumnReason } from "../spec/reserved-columns.js";
import { type ColumnType, PROVENANCE_BY_FIELD, isSystemColumn } from "../spec/system-columns.js";
import type { TableSchema } from "./backend.js";
import { inferType } from "./write-preparation.js";

export function columnsOfSchema(schema: TableSchema): KnownColumns {
  return new Map(Object.entries(schema));
}

/** Columns of in-memory rows (samples, fallback rows): every key, typed by its first non-null value. */
export function columnsOfRows(rows: readonly Row[]): KnownColumns {
  const out = new Map<string, ColumnType | undefined>();
  for (const r of rows)
    for (const k in r) {
      const v = r[k];
      if (out.get(k) !== undefined) continue;
      out.set(k, v === null || v === undefined ? undefined : k.endsWith("_by_field") ? "map" : inferType(v));
    }
  return out;
}

/** A read of `feature`'s stored table: its filters and selected columns name stored columns of fitting types. */
export function checkReadQuery(
  feature: string,
  query: ReadQuery,
  schema: TableSchema,
  details: Readonly<Record<string, unknown>> = {},
): void {
  const columns = columnsOfSchema(schema);
  const scope = { feature, subject: `Feature "${feature}"`, details };
  checkFilterColumns(query.filters, columns, { ...scope, what: "filter" });
  if (query.columns) checkColumnsExist(query.columns, columns, { ...scope, what: "columns to read" });
}

/** A physical delete's condition names stored columns of fitting types. */
export function checkDeleteCondition(feature: string, where: Expr, schema: TableSchema): void {
  checkFilterColumns([where], columnsOfSchema(schema), {
    feature,
    subject: `Feature "${feature}"`,
    what: "delete filter",
  });
}

/** Checks a plan against the stored schemas of its target (`current`) and upstream tables. */
export function checkPlan(
  plan: ResolveUpdatePlan,
  current: TableSchema | null,
  upstreams: ReadonlyArray<TableSchema | null>,
): void {
  const feature = plan.feature;
  if (current) {
    checkReadQuery(feature, plan.current, current);
    checkFilterColumns(plan.stalenessPredicates, columnsOfSchema(current), {
      feature,
      subject: `Feature "${feature}"`,
      what: "staleness predicate",
    });
  }
  if (plan.expected.kind === "samples") checkSamples(plan, plan.expected.rows, plan.expected.filters);
  else
    plan.expected.upstreams.forEach((u, i) => {
      checkUpstream(plan, u, upstreams[i]);
    });
}

/** Samples are rows of the feature: objects with provenance per field, the id columns, user column names. */
function checkSamples(plan: ResolveUpdatePlan, rows: readonly Row[], filters: readonly Expr[]): void {
  const feature = plan.feature;
  if (!Array.isArray(rows))
    throw new MetadataSchemaError(`Samples for feature "${feature}" must be an array of rows`, { feature });
  const names = new ColumnNames(feature);
  const seen = new Set<string>();
  rows.forEach((r, row) => {
    if (r === null || typeof r !== "object" || Array.isArray(r))
      throw new MetadataSchemaError(
        `Samples for feature "${feature}": row ${row} is ${r === null ? "null" : Array.isArray(r) ? "an array" : typeof r}, not an object`,
        { feature, row },
      );
    const byField = r[PROVENANCE_BY_FIELD];
    if (byField === null || typeof byField !== "object" || Array.isArray(byField))
      throw new MetadataSchemaError(
        `Samples for feature "${feature}" are missing required '${PROVENANCE_BY_FIELD}' column (row ${row})`,
        { feature, column: PROVENANCE_BY_FIELD, row },
      );
    for (const id of plan.diffColumns)
      if (r[id] === undefined || r[id] === null)
        throw new MetadataSchemaError(
          `Samples for feature "${feature}": row ${row} has no value for id column "${id}"`,
          { feature, column: id, row },
        );
    for (const k in r)
      if (!seen.has(k)) {
        seen.add(k);
        if (!isSystemColumn(k)) names.add(k, "sample column");
      }
  });
  // With no rows, no column is known, and no filter runs.
  if (rows.length > 0)
    checkFilterColumns(filters, columnsOfRows(rows), {
      feature,
      subject: `Samples for feature "${feature}"`,
      what: "filter",
    });
}

/**
 * One upstream: its runtime filters fit its stored columns, the columns it passes on are not
 * reserved, and the dependency's own filters fit its columns after rename.
 */
function checkUpstream(plan: ResolveUpdatePlan, u: UpstreamInput, stored: TableSchema | null): void {
  const feature = plan.feature;
  let columns: KnownColumns;
  if (u.inline) columns = columnsOfSchema(u.inline.schema);
  else if (stored) {
    checkReadQuery(u.feature, u.read, stored, { dependent: feature });
    columns = columnsOfSchema(stored);
  } else return; // no table: the engines report the missing feature
  // The plan already names what flows on (`columns`) and what the filters see (`renamed`).
  for (const { name } of u.columns) {
    const reason = reservedColumnReason(name);
    if (reason !== null)
      throw new ReservedColumnError(
        `Feature "${feature}": column "${name}" of dependency "${u.feature}" is a reserved name (${reason}); leave it out with select or rename it`,
        { feature, dependency: u.feature, column: name },
      );
  }
  const renamed = new Map<string, ColumnType | undefined>();
  for (const c of u.renamed) renamed.set(c.name, columns.get(c.source));
  const scope: FilterScope = {
    feature,
    subject: `Dependency "${u.feature}" of feature "${feature}" (after rename)`,
    what: "the dependency's filter",
    details: { dependency: u.feature },
  };
  checkFilterColumns(u.filters, renamed, scope);
}

import type { ReadQuery } from "../plan/read-query.js";
import type { Row } from "../plan/resolve-update-plan.js";
import { DELETED_AT, FEATURE_VERSION, UPDATED_AT } from "../spec/system-columns.js";
import { matchesAll } from "./evaluate-expression.js";
import { tupleKey } from "./row-keys.js";

function timeOf(v: unknown): number {
  if (v instanceof Date) return v.getTime();
  if (typeof v === "string" || typeof v === "number") return new Date(v).getTime();
  return Number.NEGATIVE_INFINITY;
}

/**
 * `read` semantics over stored rows in append order (SPEC §4.2): version filter, latest row per id
 * by `coalesce(deleted_at, updated_at)` (later appends win ties), soft-deleted rows dropped,
 * user filters, then column selection.
 */
export function readLatest(rows: Iterable<Row>, query: ReadQuery): Row[] {
  let out: Row[] = [];
  for (const r of rows)
    if (query.featureVersion === null || r[FEATURE_VERSION] === query.featureVersion) out.push(r);
  if (query.latestOnly) {
    const latest = new Map<string, Row>();
    for (const r of out) {
      const k = tupleKey(r, query.idColumns);
      const prev = latest.get(k);
      if (!prev || timeOf(r[DELETED_AT] ?? r[UPDATED_AT]) >= timeOf(prev[DELETED_AT] ?? prev[UPDATED_AT]))
        latest.set(k, r);
    }
    out = [...latest.values()];
  }
  if (!query.includeSoftDeleted)
    out = out.filter((r) => r[DELETED_AT] === null || r[DELETED_AT] === undefined);
  if (query.filters.length > 0) out = out.filter((r) => matchesAll(query.filters, r));
  if (query.columns) {
    const cols = query.columns;
    out = out.map((r) => Object.fromEntries(cols.map((c) => [c, r[c] ?? null])));
  }
  return out;
}

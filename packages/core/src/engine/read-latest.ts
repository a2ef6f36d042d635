import type { ReadQuery } from "../plan/read-query.js";
import type { Row } from "../plan/resolve-update-plan.js";
import { DATA_VERSION, DELETED_AT, FEATURE_VERSION, PROVENANCE, UPDATED_AT } from "../spec/system-columns.js";
import { matchesAll } from "./evaluate-expression.js";
import { tupleKey } from "./row-keys.js";

/** A timestamp value in epoch ms (not `instanceof`: rows cloned across realms carry another realm's Date). */
export function timeOf(v: unknown): number {
  if (typeof v === "object" && v !== null && typeof (v as Date).getTime === "function")
    return (v as Date).getTime();
  if (typeof v === "string" || typeof v === "number") return new Date(v).getTime();
  return Number.NEGATIVE_INFINITY;
}

/**
 * The latest-row rule every engine evaluates identically (no engine-private row ids): the
 * greatest `coalesce(deleted_at, updated_at)`; on a tie a tombstone wins over a live row, then
 * the later `updated_at` (the store stamps strictly increasing ones, so one process's later
 * write wins), then the greater `metaxy_provenance`, then the greater `metaxy_data_version`
 * (NULL as '').
 * Returns > 0 when `a` is later than `b`.
 */
export function compareLatest(a: Row, b: Row): number {
  const t = timeOf(a[DELETED_AT] ?? a[UPDATED_AT]) - timeOf(b[DELETED_AT] ?? b[UPDATED_AT]);
  if (t !== 0) return t;
  const tomb = Number(a[DELETED_AT] != null) - Number(b[DELETED_AT] != null);
  if (tomb !== 0) return tomb;
  const u = timeOf(a[UPDATED_AT]) - timeOf(b[UPDATED_AT]);
  if (u !== 0) return u;
  return compareText(a[PROVENANCE], b[PROVENANCE]) || compareText(a[DATA_VERSION], b[DATA_VERSION]);
}

/** Byte order of the UTF-8 text (code point order), as SQL engines compare strings. */
function compareText(a: unknown, b: unknown): number {
  const x = a == null ? "" : String(a);
  const y = b == null ? "" : String(b);
  if (x === y) return 0;
  return Buffer.compare(Buffer.from(x), Buffer.from(y));
}

/**
 * `read` semantics over stored rows (SPEC §4.2): version filter, latest row per id by
 * {@link compareLatest}, soft-deleted rows dropped, user filters, then column selection.
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
      if (!prev || compareLatest(r, prev) > 0) latest.set(k, r);
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

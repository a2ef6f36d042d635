import type { ReadQuery } from "../plan/read-query.js";
import type { ResolveScope, ResolveUpdatePlan, Row, UpstreamColumn } from "../plan/resolve-update-plan.js";
import { DELETED_AT, UPDATED_AT } from "../spec/system-columns.js";
import type { LoadRows } from "./reference-engine.js";
import { timeOf } from "./read-latest.js";
import { tupleKey } from "./row-keys.js";

/** Every stored row of a table, versions and tombstones included; null when it does not exist. */
export type LoadRawRows = (table: string) => Promise<readonly Row[] | null>;

/** `coalesce(metaxy_deleted_at, metaxy_updated_at)` in epoch ms: when a row was written. */
export function effectiveTime(row: Row): number {
  return timeOf(row[DELETED_AT] ?? row[UPDATED_AT]);
}

const fresh = (mark: Date | null) => (r: Row) => mark === null || effectiveTime(r) > mark.getTime();

/** A row's diff key, read through `keys` (stored column → key name), in `diffColumns` order. */
function keyThrough(row: Row, keys: readonly UpstreamColumn[], diffColumns: readonly string[]): string {
  const named: Row = {};
  for (const k of keys) named[k.name] = row[k.source];
  return tupleKey(named, diffColumns);
}

/**
 * The keys an incremental resolve evaluates (the reference semantics every engine's scope SQL
 * must equal): keys of fresh upstream rows (and, for a regrouping aggregation, every group any
 * version of a fresh id was in), keys of fresh target rows, and the pending keys.
 */
export async function scopeKeys(
  plan: ResolveUpdatePlan,
  scope: ResolveScope,
  loadRaw: LoadRawRows,
  load: LoadRows,
): Promise<Set<string>> {
  const out = new Set<string>();
  if (plan.expected.kind !== "upstreams") return out;
  for (const [i, u] of plan.expected.upstreams.entries()) {
    const s = scope.upstreams[i];
    const rows = (await loadRaw(u.read.table)) ?? [];
    const changed = rows.filter(fresh(s.mark));
    if (s.regroupBy.length === 0) {
      for (const r of changed) out.add(keyThrough(r, s.keys, plan.diffColumns));
      continue;
    }
    const ids = new Set(changed.map((r) => tupleKey(r, s.regroupBy)));
    for (const r of rows)
      if (ids.has(tupleKey(r, s.regroupBy))) out.add(keyThrough(r, s.keys, plan.diffColumns));
  }
  const target = (await loadRaw(plan.current.table)) ?? [];
  for (const r of target) if (fresh(scope.targetMark)(r)) out.add(tupleKey(r, plan.diffColumns));
  if (scope.pending)
    for (const r of (await load(scope.pending)) ?? []) out.add(tupleKey(r, plan.diffColumns));
  return out;
}

/**
 * `load` restricted to the scope: an upstream's latest rows and the target's current rows keep
 * only keys in `keys` (other reads pass through).
 */
export function scopedLoader(
  plan: ResolveUpdatePlan,
  scope: ResolveScope,
  keys: Set<string>,
  load: LoadRows,
): LoadRows {
  const through = new Map<ReadQuery, readonly UpstreamColumn[]>();
  if (plan.expected.kind === "upstreams")
    for (const [i, u] of plan.expected.upstreams.entries()) through.set(u.read, scope.upstreams[i].keys);
  const identity = plan.diffColumns.map((c) => ({ source: c, name: c }));
  through.set(plan.current, identity);
  return async (query) => {
    const rows = await load(query);
    const map = through.get(query);
    if (!rows || !map) return rows;
    return rows.filter((r) => keys.has(keyThrough(r, map, plan.diffColumns)));
  };
}

import { FeatureNotFoundError, MetadataSchemaError } from "../errors.js";
import type { Expr } from "../plan/expression.js";
import type { ReadQuery } from "../plan/read-query.js";
import type {
  InlineRows,
  PlannedField,
  ResolveUpdatePlan,
  Row,
  UpstreamInput,
} from "../plan/resolve-update-plan.js";
import { checkColumnCollisions, upstreamUserColumns } from "../plan/upstream-columns.js";
import {
  DATA_VERSION,
  DATA_VERSION_BY_FIELD,
  PROVENANCE,
  PROVENANCE_BY_FIELD,
} from "../spec/system-columns.js";
import { truncatedHash } from "../versioning/hash-algorithms.js";
import { byFieldConcat } from "../versioning/record-hash.js";
import { matchesAll } from "./evaluate-expression.js";
import { compareByColumns, tupleKey } from "./row-keys.js";

/** Rows of a table (already through `readLatest`), and the table's column names; `null` = no table. */
export type LoadRows = (query: ReadQuery) => Promise<{ rows: Row[]; columns: readonly string[] } | null>;

export interface EvaluatedIncrement {
  readonly new: Row[];
  readonly stale: Row[];
  readonly orphaned: Row[];
  /** The expected rows (null for samples), for progress. */
  readonly input: Row[] | null;
}

const PROVENANCE_COLUMNS = [PROVENANCE_BY_FIELD, PROVENANCE, DATA_VERSION_BY_FIELD, DATA_VERSION] as const;

/**
 * The reference engine: evaluates a resolve-update plan over in-memory rows. Every SQL backend
 * must produce exactly what this produces (the testkit checks it, hash strings included).
 */
export async function evaluateResolveUpdate(
  plan: ResolveUpdatePlan,
  load: LoadRows,
): Promise<EvaluatedIncrement> {
  const expected =
    plan.expected.kind === "samples"
      ? prepareSamples(plan, plan.expected.rows, plan.expected.filters)
      : await computeExpected(plan, plan.expected.upstreams, load);
  const input = plan.expected.kind === "samples" ? null : expected;
  const currentRead = await load(plan.current);
  if (plan.skipComparison || !currentRead) return { new: expected, stale: [], orphaned: [], input };

  let current = currentRead.rows;
  if (plan.collapseCurrent) current = collapse(current, plan.diffColumns);
  // As in SQL, a NULL key never matches: such expected rows are new, such stored rows orphaned.
  const currentByKey = new Map<string, Row>();
  for (const r of current)
    if (!hasNullKey(r, plan.diffColumns)) currentByKey.set(tupleKey(r, plan.diffColumns), r);

  const created: Row[] = [];
  const stale: Row[] = [];
  const seen = new Set<string>();
  for (const row of expected) {
    const k = tupleKey(row, plan.diffColumns);
    const cur = hasNullKey(row, plan.diffColumns) ? undefined : currentByKey.get(k);
    if (cur) seen.add(k);
    if (!cur) created.push(row);
    else if (
      cur[PROVENANCE] === null ||
      cur[PROVENANCE] === undefined ||
      cur[PROVENANCE] !== row[PROVENANCE] ||
      (plan.stalenessPredicates.length > 0 && plan.stalenessPredicates.some((p) => matchesAll([p], cur)))
    )
      stale.push(row);
  }
  const orphaned = current.filter(
    (r) => hasNullKey(r, plan.diffColumns) || !seen.has(tupleKey(r, plan.diffColumns)),
  );
  return { new: created, stale, orphaned, input };
}

function prepareSamples(plan: ResolveUpdatePlan, rows: readonly Row[], filters: readonly Expr[]): Row[] {
  const out: Row[] = [];
  for (const r of rows) {
    const byField = r[PROVENANCE_BY_FIELD];
    if (!byField || typeof byField !== "object")
      throw new MetadataSchemaError(
        `Samples for feature "${plan.feature}" are missing required '${PROVENANCE_BY_FIELD}' column`,
        { feature: plan.feature, column: PROVENANCE_BY_FIELD },
      );
    if (filters.length > 0 && !matchesAll(filters, r)) continue;
    const provenance = hashConcat(plan, byFieldConcat(pickFields(byField as Record<string, unknown>, plan)));
    const row: Row = { ...r, [PROVENANCE]: provenance };
    if (row[DATA_VERSION_BY_FIELD] === undefined || row[DATA_VERSION_BY_FIELD] === null) {
      row[DATA_VERSION_BY_FIELD] = { ...(byField as object) };
      row[DATA_VERSION] = provenance;
    } else if (row[DATA_VERSION] === undefined || row[DATA_VERSION] === null) {
      row[DATA_VERSION] = hashConcat(
        plan,
        byFieldConcat(pickFields(row[DATA_VERSION_BY_FIELD] as Record<string, unknown>, plan)),
      );
    }
    out.push(row);
  }
  return out;
}

/** The plan's fields only, so extra map entries never change a hash. */
function pickFields(
  byField: Record<string, unknown>,
  plan: ResolveUpdatePlan,
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const f of plan.fields) {
    const v = byField[f.structKey];
    out[f.structKey] = v === undefined || v === null ? null : String(v);
  }
  return out;
}

function hashConcat(plan: ResolveUpdatePlan, concat: string | null): string | null {
  return concat === null ? null : truncatedHash(plan.hashAlgorithm, concat, plan.truncation);
}

const dvColumn = (u: UpstreamInput) => DATA_VERSION_BY_FIELD + u.suffix;

async function computeExpected(
  plan: ResolveUpdatePlan,
  upstreams: readonly UpstreamInput[],
  load: LoadRows,
): Promise<Row[]> {
  const prepared: Row[][] = [];
  const columnSets = [];
  for (const u of upstreams) {
    const loaded = u.inline ? await collectInline(u.inline) : await load(u.read);
    if (!loaded)
      throw new FeatureNotFoundError(
        `Feature "${u.feature}" (a dependency of "${plan.feature}") has no metadata in the store`,
        {
          feature: u.feature,
          dependent: plan.feature,
        },
      );
    const columns = upstreamUserColumns(plan.feature, u, loaded.columns);
    columnSets.push(columns);
    prepared.push(prepareUpstream(plan, u, loaded.rows, loaded.columns, columns));
  }
  if (upstreams.length > 1) checkColumnCollisions(plan.feature, upstreams, columnSets, plan.joinColumns);

  const joined = joinUpstreams(plan, upstreams, prepared);
  let rows = joined.map((r) => withProvenance(plan, upstreams, r));
  if (plan.reduceExpected) {
    const byKey = new Map<string, Row>();
    for (const r of rows) {
      const k = tupleKey(r, plan.diffColumns);
      if (!byKey.has(k)) {
        const reduced: Row = {};
        for (const c of plan.diffColumns) reduced[c] = r[c];
        for (const c of PROVENANCE_COLUMNS) reduced[c] = r[c];
        byKey.set(k, reduced);
      }
    }
    rows = [...byKey.values()];
  }
  return rows;
}

/** The reference engine works in memory: a fallback's batches are gathered here. */
async function collectInline(inline: InlineRows): Promise<{ rows: Row[]; columns: string[] }> {
  const rows: Row[] = [];
  for await (const batch of inline.batches()) for (const r of batch) rows.push(r);
  return { rows, columns: Object.keys(inline.schema) };
}

/** Rename → filter → select → lineage, keeping the upstream's data versions under its suffix. */
function prepareUpstream(
  plan: ResolveUpdatePlan,
  u: UpstreamInput,
  rows: readonly Row[],
  storedColumns: readonly string[],
  columns: ReadonlyArray<readonly [string, string]>,
): Row[] {
  const dv = dvColumn(u);
  const allUser =
    u.select === null ? columns : upstreamUserColumns(plan.feature, { ...u, select: null }, storedColumns);
  let out: Row[] = [];
  for (const r of rows) {
    const renamed: Row = {};
    for (const [source, name] of allUser) renamed[name] = r[source] ?? null;
    for (const c of PROVENANCE_COLUMNS) renamed[c + u.suffix] = r[c] ?? null;
    if (u.filters.length > 0 && !matchesAll(u.filters, renamed)) continue;
    if (u.select === null) {
      out.push(renamed);
    } else {
      const selected: Row = {};
      for (const [, name] of columns) selected[name] = renamed[name];
      selected[dv] = renamed[dv];
      out.push(selected);
    }
  }
  if (u.lineage.type === "aggregation") out = aggregate(plan, u, out, u.lineage.on);
  // Only the data versions travel on; the other renamed system columns are dropped (SPEC §2.5).
  for (const r of out)
    for (const c of PROVENANCE_COLUMNS) if (c !== DATA_VERSION_BY_FIELD) delete r[c + u.suffix];
  return out;
}

/** N:1: every row of a group carries the hash of the group's concatenated data versions per field. */
function aggregate(plan: ResolveUpdatePlan, u: UpstreamInput, rows: Row[], on: readonly string[]): Row[] {
  const dv = dvColumn(u);
  const orderBy = u.idColumns.filter((c) => rows.length === 0 || c in rows[0]);
  const sorter = compareByColumns(orderBy.length > 0 ? orderBy : on);
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const k = tupleKey(r, on);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  for (const group of groups.values()) {
    group.sort(sorter);
    const byField: Record<string, string | null> = {};
    for (const sk of u.fieldStructKeys) {
      const values: string[] = [];
      for (const r of group) {
        const v = (r[dv] as Record<string, unknown> | null)?.[sk];
        if (v !== null && v !== undefined) values.push(String(v));
      }
      byField[sk] = hashConcat(plan, values.join("|"));
    }
    for (const r of group) r[dv] = { ...byField };
  }
  return rows;
}

function joinUpstreams(
  plan: ResolveUpdatePlan,
  upstreams: readonly UpstreamInput[],
  prepared: Row[][],
): Row[] {
  const keys = plan.joinColumns;
  const required = upstreams.map((_, i) => i).filter((i) => !upstreams[i].optional);
  const optional = upstreams.map((_, i) => i).filter((i) => upstreams[i].optional);
  const order = [...required, ...optional];
  let acc: Row[] = prepared[order[0]];
  for (const i of order.slice(1)) {
    const right = new Map<string, Row[]>();
    for (const r of prepared[i]) {
      if (hasNullKey(r, keys)) continue; // never matches; kept below for a full outer join
      const k = tupleKey(r, keys);
      const list = right.get(k);
      if (list) list.push(r);
      else right.set(k, [r]);
    }
    const next: Row[] = [];
    const matched = new Set<string>();
    const kind = !upstreams[i].optional ? "inner" : required.length > 0 ? "left" : "full";
    for (const l of acc) {
      const k = tupleKey(l, keys);
      const rs = hasNullKey(l, keys) ? undefined : right.get(k);
      if (rs) {
        matched.add(k);
        for (const r of rs) next.push({ ...r, ...l, ...pick(r, dvColumn(upstreams[i])) });
      } else if (kind !== "inner") next.push({ ...l });
    }
    if (kind === "full") {
      for (const [k, rs] of right) if (!matched.has(k)) for (const r of rs) next.push({ ...r });
      for (const r of prepared[i]) if (hasNullKey(r, keys)) next.push({ ...r });
    }
    acc = next;
  }
  return acc;
}

function hasNullKey(row: Row, keys: readonly string[]): boolean {
  for (const k of keys) if (row[k] === null || row[k] === undefined) return true;
  return false;
}

function pick(row: Row, column: string): Row {
  return { [column]: row[column] };
}

function withProvenance(plan: ResolveUpdatePlan, upstreams: readonly UpstreamInput[], joined: Row): Row {
  const byField: Record<string, string | null> = {};
  for (const f of plan.fields) byField[f.structKey] = fieldHash(plan, upstreams, f, joined);
  const out: Row = {};
  for (const [k, v] of Object.entries(joined)) if (!k.startsWith(DATA_VERSION_BY_FIELD + "__")) out[k] = v;
  const provenance = hashConcat(plan, byFieldConcat(byField));
  out[PROVENANCE_BY_FIELD] = byField;
  out[PROVENANCE] = provenance;
  out[DATA_VERSION_BY_FIELD] = { ...byField };
  out[DATA_VERSION] = provenance;
  return out;
}

function fieldHash(
  plan: ResolveUpdatePlan,
  upstreams: readonly UpstreamInput[],
  f: PlannedField,
  row: Row,
): string | null {
  const parts = [f.keyString, f.codeVersion];
  for (const p of f.parents) {
    const map = row[dvColumn(upstreams[p.upstream])] as Record<string, unknown> | null | undefined;
    let v = map?.[p.structKey];
    if (v === null || v === undefined) {
      if (!p.optional) return null;
      v = "";
    }
    parts.push(p.fqKey, String(v));
  }
  return hashConcat(plan, parts.join("|"));
}

/**
 * Expansion: one row per parent, any non-null value per column, except the provenance, which is
 * null (hence stale) when the parent's children do not all carry the same one.
 */
function collapse(rows: readonly Row[], keys: readonly string[]): Row[] {
  const out = new Map<string, Row>();
  const disagree = new Set<Row>();
  for (const r of rows) {
    const k = tupleKey(r, keys);
    const prev = out.get(k);
    if (!prev) out.set(k, { ...r });
    else {
      if (prev[PROVENANCE] !== r[PROVENANCE]) disagree.add(prev);
      for (const [c, v] of Object.entries(r)) if (prev[c] === null || prev[c] === undefined) prev[c] = v;
    }
  }
  // Children that disagree on provenance (a parent partly recomputed) make the parent stale.
  for (const r of disagree) r[PROVENANCE] = null;
  return [...out.values()];
}

import { FeatureNotFoundError, MetadataSchemaError } from "../errors.js";
import type { Expr } from "../plan/expression.js";
import type { ReadQuery } from "../plan/read-query.js";
import type {
  ExpectedFromUpstreams,
  InlineRows,
  PlannedField,
  ResolveUpdatePlan,
  Row,
  UpstreamInput,
  UpstreamLineage,
} from "../plan/resolve-update-plan.js";
import {
  DATA_VERSION,
  DATA_VERSION_BY_FIELD,
  PROVENANCE,
  PROVENANCE_BY_FIELD,
} from "../spec/system-columns.js";
import { truncatedHash } from "../versioning/hash-algorithms.js";
import { matchesAll } from "./evaluate-expression.js";
import { type LoadRawRows, scopeKeys, scopedLoader } from "./resolve-scope.js";
import { compareByColumns, tupleKey } from "./row-keys.js";

/** Rows of a table (already through `readLatest`); `null` = no table. */
export type LoadRows = (query: ReadQuery) => Promise<readonly Row[] | null>;

export interface EvaluatedIncrement {
  readonly new: Row[];
  readonly stale: Row[];
  readonly orphaned: Row[];
  /** Would be new or stale, but failed for good at this provenance. */
  readonly failed: Row[];
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
  loadRaw?: LoadRawRows,
): Promise<EvaluatedIncrement> {
  if (plan.scope) {
    if (!loadRaw) throw new Error("evaluateResolveUpdate: a scoped plan needs the raw rows of its tables");
    const keys = await scopeKeys(plan, plan.scope, loadRaw, load);
    load = scopedLoader(plan, plan.scope, keys, load);
  }
  const expected =
    plan.expected.kind === "samples"
      ? prepareSamples(plan, plan.expected.rows, plan.expected.filters)
      : await computeExpected(plan, plan.expected, load);
  const input = plan.expected.kind === "samples" ? null : expected;
  const currentRead = await load(plan.current);
  if (plan.skipComparison || !currentRead)
    return { ...(await setFailedAside(plan, expected, [], load)), orphaned: [], input };

  const current = plan.collapseCurrent ? collapse(currentRead, plan.collapseCurrent.by) : currentRead;
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
  return { ...(await setFailedAside(plan, created, stale, load)), orphaned, input };
}

/** Moves rows that match a recorded failure (ids and provenance) out of new / stale. */
async function setFailedAside(
  plan: ResolveUpdatePlan,
  created: Row[],
  stale: Row[],
  load: LoadRows,
): Promise<{ new: Row[]; stale: Row[]; failed: Row[] }> {
  const failures = plan.failures && (await load(plan.failures));
  if (!failures) return { new: created, stale, failed: [] };
  const keyOf = (r: Row) => tupleKey(r, [...plan.diffColumns, PROVENANCE]);
  const failedKeys = new Set(failures.map(keyOf));
  const failed: Row[] = [];
  const keep = (rows: Row[]) =>
    rows.filter((r) => {
      if (!failedKeys.has(keyOf(r))) return true;
      failed.push(r);
      return false;
    });
  return { new: keep(created), stale: keep(stale), failed };
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
    const provenance = hashConcat(
      plan,
      recordConcat(plan, pickFields(byField as Record<string, unknown>, plan)),
    );
    const row: Row = { ...r, [PROVENANCE]: provenance };
    if (row[DATA_VERSION_BY_FIELD] === undefined || row[DATA_VERSION_BY_FIELD] === null) {
      row[DATA_VERSION_BY_FIELD] = { ...(byField as object) };
      row[DATA_VERSION] = provenance;
    } else if (row[DATA_VERSION] === undefined || row[DATA_VERSION] === null) {
      row[DATA_VERSION] = hashConcat(
        plan,
        recordConcat(plan, pickFields(row[DATA_VERSION_BY_FIELD] as Record<string, unknown>, plan)),
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

/** The record provenance's input: per-field values in `recordOrder`, null if any is. */
function recordConcat(
  plan: ResolveUpdatePlan,
  byField: Readonly<Record<string, string | null>>,
): string | null {
  const values: string[] = [];
  for (const k of plan.recordOrder) {
    const v = byField[k];
    if (v === null || v === undefined) return null;
    values.push(v);
  }
  return values.join("|");
}

function hashConcat(plan: ResolveUpdatePlan, concat: string | null): string | null {
  return concat === null ? null : truncatedHash(plan.hashAlgorithm, concat, plan.truncation);
}

const dvColumn = (u: UpstreamInput) => DATA_VERSION_BY_FIELD + u.suffix;

/** One joined row: the prepared row of each upstream (by index), absent where a join found none. */
type JoinedRow = ReadonlyArray<Row | undefined>;

async function computeExpected(
  plan: ResolveUpdatePlan,
  expected: ExpectedFromUpstreams,
  load: LoadRows,
): Promise<Row[]> {
  const prepared: Row[][] = [];
  for (const u of expected.upstreams) {
    const rows = u.inline ? await collectInline(u.inline) : await load(u.read);
    if (!rows)
      throw new FeatureNotFoundError(
        `Feature "${u.feature}" (a dependency of "${plan.feature}") has no metadata in the store`,
        { feature: u.feature, dependent: plan.feature },
      );
    prepared.push(prepareUpstream(plan, u, rows));
  }
  const rows = joinUpstreams(expected, prepared).map((j) => expectedRow(plan, expected, j));
  if (!expected.reduce) return rows;
  const by = expected.reduce.by;
  const byKey = new Map<string, Row>();
  for (const r of rows) {
    const k = tupleKey(r, by);
    if (!byKey.has(k)) {
      const reduced: Row = {};
      for (const c of expected.columns) reduced[c] = r[c];
      for (const c of PROVENANCE_COLUMNS) reduced[c] = r[c];
      byKey.set(k, reduced);
    }
  }
  return [...byKey.values()];
}

/** The reference engine works in memory: a fallback's batches are gathered here. */
async function collectInline(inline: InlineRows): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const batch of inline.batches()) for (const r of batch) rows.push(r);
  return rows;
}

/** Rename → filter → select → lineage; the data versions travel under the upstream's suffix. */
function prepareUpstream(plan: ResolveUpdatePlan, u: UpstreamInput, rows: readonly Row[]): Row[] {
  const dv = dvColumn(u);
  const out: Row[] = [];
  for (const r of rows) {
    const renamed: Row = {};
    for (const c of u.renamed) renamed[c.name] = r[c.source] ?? null;
    if (u.filters.length > 0 && !matchesAll(u.filters, renamed)) continue;
    const selected: Row = {};
    for (const { name } of u.columns) selected[name] = renamed[name];
    selected[dv] = renamed[dv];
    out.push(selected);
  }
  return u.lineage.type === "aggregation" ? aggregate(plan, u, out, u.lineage) : out;
}

/** N:1: one row per group, carrying the hash of its members' concatenated data versions per field. */
function aggregate(
  plan: ResolveUpdatePlan,
  u: UpstreamInput,
  rows: Row[],
  lineage: Extract<UpstreamLineage, { type: "aggregation" }>,
): Row[] {
  const dv = dvColumn(u);
  const sorter = compareByColumns(lineage.orderBy);
  const groups = new Map<string, Row[]>();
  for (const r of rows) {
    const k = tupleKey(r, lineage.on);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return [...groups.values()].map((group) => {
    group.sort(sorter);
    const byField: Record<string, string | null> = {};
    for (const sk of lineage.fieldStructKeys) {
      const values: string[] = [];
      for (const r of group) {
        const v = (r[dv] as Record<string, unknown> | null)?.[sk];
        if (v !== null && v !== undefined) values.push(String(v));
      }
      byField[sk] = hashConcat(plan, values.join("|"));
    }
    const row: Row = {};
    for (const c of lineage.on) row[c] = group[0][c];
    row[dv] = byField;
    return row;
  });
}

/** The joins in `joinOrder`, each of its upstream's kind, matching on the (coalesced) join columns. */
function joinUpstreams(expected: ExpectedFromUpstreams, prepared: Row[][]): JoinedRow[] {
  const keys = expected.joinColumns;
  const [base, ...rest] = expected.joinOrder;
  const single = (i: number, r: Row): Array<Row | undefined> => {
    const row: Array<Row | undefined> = [];
    row[i] = r;
    return row;
  };
  let acc = prepared[base].map((r) => single(base, r));
  let order = [base];
  for (const i of rest) {
    const kind = expected.upstreams[i].join;
    const right = new Map<string, Row[]>();
    for (const r of prepared[i]) {
      if (hasNullKey(r, keys)) continue; // never matches; kept below for a full outer join
      const k = tupleKey(r, keys);
      const list = right.get(k);
      if (list) list.push(r);
      else right.set(k, [r]);
    }
    const next: Array<Array<Row | undefined>> = [];
    const matched = new Set<string>();
    for (const l of acc) {
      const key = joinKey(l, order, keys);
      const k = tupleKey(key, keys);
      const rs = hasNullKey(key, keys) ? undefined : right.get(k);
      if (rs) {
        matched.add(k);
        for (const r of rs) {
          const row = [...l];
          row[i] = r;
          next.push(row);
        }
      } else if (kind !== "inner") next.push([...l]);
    }
    if (kind === "full") {
      for (const [k, rs] of right) if (!matched.has(k)) for (const r of rs) next.push(single(i, r));
      for (const r of prepared[i]) if (hasNullKey(r, keys)) next.push(single(i, r));
    }
    acc = next;
    order = [...order, i];
  }
  return acc;
}

/** Each join column from the first upstream (in join order) that has a value for it. */
function joinKey(row: JoinedRow, order: readonly number[], keys: readonly string[]): Row {
  const out: Row = {};
  for (const c of keys) {
    out[c] = null;
    for (const i of order) {
      const v = row[i]?.[c];
      if (v !== null && v !== undefined) {
        out[c] = v;
        break;
      }
    }
  }
  return out;
}

function hasNullKey(row: Row, keys: readonly string[]): boolean {
  for (const k of keys) if (row[k] === null || row[k] === undefined) return true;
  return false;
}

/** The plan's columns of a joined row, then its provenance (SPEC §2.5). */
function expectedRow(plan: ResolveUpdatePlan, expected: ExpectedFromUpstreams, joined: JoinedRow): Row {
  const out = joinKey(joined, expected.joinOrder, expected.joinColumns);
  for (const c of expected.joinedColumns) out[c.name] = joined[c.upstream]?.[c.name] ?? null;
  const byField: Record<string, string | null> = {};
  for (const f of plan.fields) byField[f.structKey] = fieldHash(plan, expected.upstreams, f, joined);
  const provenance = hashConcat(plan, recordConcat(plan, byField));
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
  joined: JoinedRow,
): string | null {
  const parts = [f.keyString, f.codeVersion];
  for (const p of f.parents) {
    const u = upstreams[p.upstream];
    const map = joined[p.upstream]?.[dvColumn(u)] as Record<string, unknown> | null | undefined;
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

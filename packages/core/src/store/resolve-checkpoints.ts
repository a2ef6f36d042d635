import { and, eq, isIn } from "../plan/expression.js";
import type { ReadQuery } from "../plan/read-query.js";
import {
  INCREMENT_KINDS,
  type IncrementCounts,
  type ResolveScope,
  type ResolveUpdatePlan,
  type Row,
  type ScopedUpstream,
} from "../plan/resolve-update-plan.js";
import { FeatureKey } from "../keys.js";
import type { ColumnType } from "../spec/system-columns.js";
import { sha256Hex } from "../versioning/sha256.js";
import type { Backend, IncrementSource, TableMark, TableWrite } from "./backend.js";
import { inferType } from "./write-preparation.js";

/**
 * Incremental resolves (docs/architecture.md, "Incremental resolve"). After each resolve the store
 * records a checkpoint per target feature and plan: per table it reads (every upstream, the
 * target) the high-water mark of the effective time `coalesce(metaxy_deleted_at, metaxy_updated_at)`
 * and how many rows were at or before it, plus the keys the resolve left pending (new, stale,
 * orphaned or failed). The next resolve of the same plan evaluates only the keys of rows written
 * after the marks and the pending keys: every other key had an empty result and nothing it
 * depends on changed. A table whose count no longer adds up (a hard delete, a row written with an
 * older `metaxy_updated_at`) makes the resolve full, and says why.
 */

export type ResolveMode = "incremental" | "full";

export const CHECKPOINTS_TABLE = new FeatureKey("metaxy-system/resolve_checkpoints").tableName;
const PENDING_PREFIX = `${new FeatureKey("metaxy-system/resolve_pending").tableName}__`;

/** `metaxy_system__resolve_pending__<feature table>`: pending keys, in the key columns' own types. */
export function pendingTable(featureTable: string): string {
  return `${PENDING_PREFIX}${featureTable}`;
}

const CHECKPOINT_SCHEMA: Record<string, ColumnType> = {
  feature_key: "string",
  plan_hash: "string",
  checkpoint_id: "string",
  created_at: "timestamp",
  /** JSON: `[{ table, mark, base }]`, mark an ISO time or null. */
  marks: "string",
  /** Keys left pending; -1 when more than `maxPending` (the next resolve is then full). */
  pending: "integer",
};

/** Below this many changed rows an incremental resolve is always cheaper than a full one. */
const MIN_FULL_CHANGE = 50_000;

/** Checkpoints kept per plan (older ones and their pending keys are removed). */
const KEPT_CHECKPOINTS = 3;

export interface IncrementalOptions {
  /** `resolveUpdate({ incremental: false })` forces a full resolve. */
  readonly enabled: boolean;
  /** Read-only stores use checkpoints but record none. */
  readonly writable: boolean;
  /** A resolve leaving more keys than this pending records no pending set (the next is full). */
  readonly maxPending: number;
  /** Above this share of rows changed since the checkpoint, a full resolve is cheaper. */
  readonly maxChangedShare: number;
  readonly now: () => Date;
  /** Runs the checkpoint write alone among this store's writes to the same tables. */
  readonly serialize: <T>(fn: () => Promise<T>) => Promise<T>;
}

export interface ResolveRun {
  readonly source: IncrementSource;
  readonly mode: ResolveMode;
  /** Why the resolve was full (null when incremental). */
  readonly reason: string | null;
  /** When incremental: rows written since the checkpoint, and keys it had pending. */
  readonly changedRows: number;
}

interface TableCheckpoint {
  table: string;
  mark: Date | null;
  /** Rows with effective time at or before `mark` when it was taken. */
  base: number;
}

interface Checkpoint {
  id: string;
  planHash: string;
  createdAt: Date;
  marks: TableCheckpoint[];
  pending: number;
}

/** Hash of everything a resolve's result depends on besides the data (plan minus scope and rows). */
export function planIdentity(plan: ResolveUpdatePlan): string {
  const text = JSON.stringify(plan, (k, v) =>
    k === "inline" || k === "scope" ? undefined : typeof v === "bigint" ? `${v}n` : v,
  );
  return sha256Hex(new TextEncoder().encode(text));
}

/** Why `plan` cannot be resolved incrementally on `backend`; null when it can. */
function ineligible(backend: Backend, plan: ResolveUpdatePlan, options: IncrementalOptions): string | null {
  if (!options.enabled) return "incremental resolve turned off for this call";
  if (!backend.tableMarks) return `backend "${backend.kind}" does not support incremental resolves`;
  if (plan.expected.kind === "samples") return "expected rows are the samples passed in";
  if (plan.skipComparison) return "skipComparison reports every expected record";
  if (plan.expected.upstreams.some((u) => u.inline)) return "an upstream is read from a fallback store";
  return null;
}

/** The tables a plan reads whose changes a checkpoint tracks: every upstream, then the target. */
function trackedTables(plan: ResolveUpdatePlan): string[] {
  const ups = plan.expected.kind === "upstreams" ? plan.expected.upstreams.map((u) => u.read.table) : [];
  return [...ups, plan.current.table];
}

/** Runs `plan`, incrementally when a valid checkpoint allows, and records the next checkpoint. */
export async function runResolve(
  backend: Backend,
  plan: ResolveUpdatePlan,
  options: IncrementalOptions,
): Promise<ResolveRun> {
  const notEligible = ineligible(backend, plan, options);
  if (notEligible)
    return { source: await backend.resolveUpdate(plan), mode: "full", reason: notEligible, changedRows: 0 };
  const tables = trackedTables(plan);
  const planHash = planIdentity(plan);
  const checkpoints = await readCheckpoints(backend, plan.feature);
  const prev = latest(checkpoints.filter((c) => c.planHash === planHash));
  const prevMark = (t: string) => prev?.marks.find((m) => m.table === t) ?? null;
  // Validation and the new marks in one statement per table; then the count at the new mark.
  const now = await backend.tableMarks!(
    tables.map((table) => ({ table, since: prevMark(table)?.mark ?? null })),
  );
  // A table with nothing after its mark keeps it (when its count adds up, checked below).
  const kept = (i: number) => {
    const was = prevMark(tables[i]);
    return was !== null && now[i].since === 0 && now[i].rows === was.base ? was : null;
  };
  const moved = tables.flatMap((table, i) => (kept(i) ? [] : [{ table, since: now[i].latest, i }]));
  const atMark = moved.length ? await backend.tableMarks!(moved) : [];
  const marks = tables.map((table, i) => {
    const j = moved.findIndex((m) => m.i === i);
    return j < 0 ? kept(i)! : { table, mark: now[i].latest, base: atMark[j].rows - atMark[j].since };
  });

  let reason: string | null = null;
  let changedRows = 0;
  if (!prev)
    reason =
      checkpoints.length > 0
        ? "the plan changed since the last checkpoint (a code or feature version, filters or options)"
        : "no checkpoint yet for this plan";
  else if (prev.pending < 0) reason = "the last resolve left too many records pending to track them";
  else {
    reason = brokenTable(tables, prevMark, now);
    changedRows = now.reduce((n, m) => n + m.since, 0);
    const total = now.reduce((n, m) => n + m.rows, 0);
    if (!reason && changedRows > MIN_FULL_CHANGE && changedRows > options.maxChangedShare * total)
      reason = `${changedRows} of ${total} rows changed since the checkpoint: a full resolve is cheaper`;
  }
  const scope = reason === null ? scopeOf(plan, prev!, prevMark) : null;
  const source = await backend.resolveUpdate(scope ? { ...plan, scope } : plan);
  // Nothing written since the checkpoint: it still describes the data, and this result is its own.
  const unchanged = scope !== null && changedRows === 0;
  if (options.writable && !unchanged) {
    try {
      await options.serialize(() =>
        recordCheckpoint(backend, plan, planHash, marks, source, checkpoints, options),
      );
    } catch (e) {
      await source.dispose();
      throw e;
    }
  }
  return scope
    ? { source: withFullProgress(backend, plan, source), mode: "incremental", reason: null, changedRows }
    : { source, mode: "full", reason, changedRows: 0 };
}

/**
 * Progress counts every input id, which a scoped resolve does not see: an incremental increment
 * answers it with a full resolve, run only when asked.
 */
function withFullProgress(
  backend: Backend,
  plan: ResolveUpdatePlan,
  source: IncrementSource,
): IncrementSource {
  return {
    counts: () => source.counts(),
    rows: (kind, batchSize) => source.rows(kind, batchSize),
    ...(source.keys ? { keys: (batchSize: number) => source.keys!(batchSize) } : {}),
    stage: (stageId) => source.stage(stageId),
    dispose: () => source.dispose(),
    progress: async () => {
      const full = await backend.resolveUpdate(plan);
      try {
        return await full.progress();
      } finally {
        await full.dispose();
      }
    },
  };
}

/** The first tracked table whose count shows rows removed or written at or before its mark. */
function brokenTable(
  tables: readonly string[],
  prevMark: (t: string) => TableCheckpoint | null,
  now: readonly TableMark[],
): string | null {
  for (const [i, table] of tables.entries()) {
    const was = prevMark(table);
    if (!was) return `table "${table}" is not in the checkpoint`;
    const expected = was.base + now[i].since;
    if (now[i].rows < expected)
      return `${expected - now[i].rows} rows of "${table}" were deleted since the checkpoint`;
    if (now[i].rows > expected)
      return `${now[i].rows - expected} rows of "${table}" were written with a metaxy_updated_at at or before the checkpoint`;
  }
  return null;
}

function scopeOf(
  plan: ResolveUpdatePlan,
  prev: Checkpoint,
  prevMark: (t: string) => TableCheckpoint | null,
): ResolveScope {
  const upstreams: ScopedUpstream[] =
    plan.expected.kind !== "upstreams"
      ? []
      : plan.expected.upstreams.map((u) => {
          const keys = plan.diffColumns.map((name) => {
            const c = u.renamed.find((r) => r.name === name);
            return { source: c?.source ?? name, name };
          });
          const ids = new Set(u.read.idColumns);
          return {
            mark: prevMark(u.read.table)?.mark ?? null,
            keys,
            regroupBy: keys.every((k) => ids.has(k.source)) ? [] : [...u.read.idColumns],
          };
        });
  const pending: ReadQuery | null =
    prev.pending === 0
      ? null
      : {
          table: pendingTable(plan.table),
          idColumns: plan.diffColumns,
          featureVersion: null,
          latestOnly: false,
          includeSoftDeleted: true,
          filters: [eq("checkpoint_id", prev.id)],
          columns: [...plan.diffColumns],
        };
  return { upstreams, targetMark: prevMark(plan.current.table)?.mark ?? null, pending };
}

async function readCheckpoints(backend: Backend, feature: string): Promise<Checkpoint[]> {
  if (!(await backend.tableExists(CHECKPOINTS_TABLE))) return [];
  const out: Checkpoint[] = [];
  const query: ReadQuery = {
    table: CHECKPOINTS_TABLE,
    idColumns: ["checkpoint_id"],
    featureVersion: null,
    latestOnly: false,
    includeSoftDeleted: true,
    filters: [eq("feature_key", feature)],
    columns: null,
  };
  for await (const batch of backend.read(query, 1000))
    for (const r of batch)
      out.push({
        id: String(r.checkpoint_id),
        planHash: String(r.plan_hash),
        createdAt: new Date(r.created_at as Date),
        marks: (
          JSON.parse(String(r.marks)) as Array<{ table: string; mark: string | null; base: number }>
        ).map((m) => ({ table: m.table, mark: m.mark === null ? null : new Date(m.mark), base: m.base })),
        pending: Number(r.pending),
      });
  return out;
}

/** The increment's keys: from the engine when it offers them, else from the rows of each kind present. */
async function* pendingKeys(source: IncrementSource, counts: IncrementCounts): AsyncIterable<Row[]> {
  if (source.keys) {
    yield* source.keys(10_000);
    return;
  }
  for (const kind of INCREMENT_KINDS) if (counts[kind] > 0) yield* source.rows(kind, 10_000);
}

function latest(checkpoints: readonly Checkpoint[]): Checkpoint | null {
  let best: Checkpoint | null = null;
  for (const c of checkpoints)
    if (
      !best ||
      c.createdAt.getTime() > best.createdAt.getTime() ||
      (c.createdAt.getTime() === best.createdAt.getTime() && c.id > best.id)
    )
      best = c;
  return best;
}

/** Writes the pending keys and the checkpoint in one all-or-nothing write, then prunes old ones. */
async function recordCheckpoint(
  backend: Backend,
  plan: ResolveUpdatePlan,
  planHash: string,
  marks: readonly TableCheckpoint[],
  source: IncrementSource,
  existing: readonly Checkpoint[],
  options: IncrementalOptions,
): Promise<void> {
  const id = `${planHash.slice(0, 16)}-${options.now().getTime().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  const counts = await source.counts();
  const total = counts.new + counts.stale + counts.orphaned + counts.failed;
  const writes: TableWrite[] = [];
  let pending = total;
  if (total > options.maxPending) pending = -1;
  else if (total > 0) {
    const table = pendingTable(plan.table);
    const known = (await backend.tableSchema(table)) ?? {};
    const schema: Record<string, ColumnType> = { plan_hash: "string", checkpoint_id: "string" };
    const rows: Row[] = [];
    const seen = new Set<string>();
    for await (const batch of pendingKeys(source, counts))
      for (const r of batch) {
        const row: Row = { plan_hash: planHash, checkpoint_id: id };
        for (const c of plan.diffColumns) {
          const v = r[c] ?? null;
          row[c] = v;
          if (v !== null) schema[c] ??= known[c] ?? inferType(v);
        }
        const k = JSON.stringify(plan.diffColumns.map((c) => String(row[c])));
        if (!seen.has(k)) {
          seen.add(k);
          rows.push(row);
        }
      }
    for (const c of plan.diffColumns) schema[c] ??= known[c] ?? "string";
    pending = rows.length;
    writes.push({ table, feature: plan.feature, schema, rows });
  }
  const now = options.now();
  writes.push({
    table: CHECKPOINTS_TABLE,
    feature: plan.feature,
    schema: CHECKPOINT_SCHEMA,
    rows: [
      {
        feature_key: plan.feature,
        plan_hash: planHash,
        checkpoint_id: id,
        created_at: now,
        marks: JSON.stringify(marks.map((m) => ({ ...m, mark: m.mark?.toISOString() ?? null }))),
        pending,
      },
    ],
  });
  await backend.write(writes);

  // Keep the newest few per plan: a resolve running concurrently may still read an older one.
  const mine = existing
    .filter((c) => c.planHash === planHash)
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  const old = mine.slice(KEPT_CHECKPOINTS - 1).map((c) => c.id);
  if (old.length === 0) return;
  await backend.deleteRows(
    CHECKPOINTS_TABLE,
    and(eq("feature_key", plan.feature), isIn("checkpoint_id", old)),
  );
  if (await backend.tableExists(pendingTable(plan.table)))
    await backend.deleteRows(
      pendingTable(plan.table),
      and(eq("plan_hash", planHash), isIn("checkpoint_id", old)),
    );
}

import { evaluateResolveUpdate } from "../engine/reference-engine.js";
import { readLatest } from "../engine/read-latest.js";
import { matchesAll } from "../engine/evaluate-expression.js";
import { effectiveTime } from "../engine/resolve-scope.js";
import { tupleKey } from "../engine/row-keys.js";
import { IdempotencyConflictError, MetadataStoreError, TableNotFoundError } from "../errors.js";
import type { Expr } from "../plan/expression.js";
import type { ReadQuery } from "../plan/read-query.js";
import type { IncrementCounts, IncrementKind, ResolveUpdatePlan, Row } from "../plan/resolve-update-plan.js";
import {
  BACKEND_SPEC_VERSION,
  type Backend,
  type IncrementSource,
  type MarkRequest,
  type TableMark,
  type StagedIncrementSource,
  type TableSchema,
  type TableWrite,
  type TombstoneValues,
} from "../store/backend.js";
import { HASH_ALGORITHMS, type HashAlgorithm } from "../versioning/hash-algorithms.js";

interface MemoryTable {
  columns: Map<string, TableSchema[string]>;
  rows: Row[];
  /** idempotency key → fingerprint of the rows it wrote */
  idempotencyKeys: Map<string, string>;
}

export interface MemoryBackendOptions {
  /** Default record hash. Default `xxhash64`, as Python Metaxy's in-memory engine. */
  hashAlgorithm?: HashAlgorithm;
  name?: string;
}

/**
 * An in-memory backend on the reference engine: for tests and small pipelines. Data lives as
 * long as the backend object; several stores may share one backend.
 */
export function memory(options: MemoryBackendOptions = {}): Backend {
  return new MemoryBackend(options);
}

type Stage = { counts: IncrementCounts; toProcess: Row[]; orphaned: Row[] };

class MemoryBackend implements Backend {
  readonly specificationVersion = BACKEND_SPEC_VERSION;
  readonly kind = "memory";
  readonly capabilities;
  readonly #tables = new Map<string, MemoryTable>();
  readonly #stages = new Map<string, Stage>();
  readonly #name: string;

  constructor(options: MemoryBackendOptions) {
    this.capabilities = {
      hashAlgorithms: HASH_ALGORITHMS,
      defaultHashAlgorithm: options.hashAlgorithm ?? "xxhash64",
      atomicWrites: true,
    } as const;
    this.#name = options.name ?? "memory";
  }

  display(): string {
    return `memory(${this.#name})`;
  }
  async open(): Promise<void> {}
  async close(): Promise<void> {}

  async tableExists(table: string): Promise<boolean> {
    return this.#tables.has(table);
  }
  async listTables(): Promise<string[]> {
    return [...this.#tables.keys()].sort();
  }
  async tableColumns(table: string): Promise<string[] | null> {
    const t = this.#tables.get(table);
    return t ? [...t.columns.keys()] : null;
  }
  async tableSchema(table: string): Promise<TableSchema | null> {
    const t = this.#tables.get(table);
    return t ? Object.fromEntries(t.columns) : null;
  }

  async write(writes: readonly TableWrite[]): Promise<number[]> {
    // Check everything before touching anything: the write is all-or-nothing.
    const replays = writes.map((w) => {
      const key = w.idempotency?.key;
      const seen = key === undefined ? undefined : this.#tables.get(w.table)?.idempotencyKeys.get(key);
      if (seen === undefined) return false;
      if (seen !== w.idempotency!.fingerprint)
        throw new IdempotencyConflictError(
          `Idempotency key "${key}" was already used on feature "${w.feature}" for different rows`,
          { feature: w.feature, idempotencyKey: key },
        );
      return true;
    });
    writes.forEach((w, i) => {
      if (replays[i]) return;
      const t: MemoryTable = this.#tables.get(w.table) ?? {
        columns: new Map(),
        rows: [],
        idempotencyKeys: new Map(),
      };
      this.#tables.set(w.table, t);
      for (const [c, type] of Object.entries(w.schema))
        if (!t.columns.has(c)) {
          t.columns.set(c, type);
          for (const r of t.rows) r[c] = null; // as SQL: a new column is null in older rows
        }
      if (w.idempotency) t.idempotencyKeys.set(w.idempotency.key, w.idempotency.fingerprint);
      // Copies, so callers mutating their objects cannot alter stored history.
      for (const r of w.rows) {
        const row = structuredClone(r);
        for (const c of t.columns.keys()) if (!(c in row)) row[c] = null;
        t.rows.push(row);
      }
    });
    return writes.map((w, i) => (replays[i] ? 0 : w.rows.length));
  }

  async appendTombstones(query: ReadQuery, values: TombstoneValues): Promise<number> {
    const t = this.#tables.get(query.table);
    if (!t) throw new TableNotFoundError(`Table "${query.table}" does not exist`, { table: query.table });
    const rows = readLatest(t.rows, { ...query, columns: null });
    for (const r of rows) t.rows.push({ ...structuredClone(r), ...values });
    return rows.length;
  }

  async *read(query: ReadQuery, batchSize: number): AsyncIterable<Row[]> {
    const rows = this.#readRows(query);
    for (let i = 0; i < rows.length; i += batchSize)
      yield rows.slice(i, i + batchSize).map((r) => structuredClone(r));
  }
  async count(query: ReadQuery): Promise<number> {
    return this.#readRows(query).length;
  }
  async deleteRows(table: string, where: Expr | null): Promise<number> {
    const t = this.#tables.get(table);
    if (!t) return 0;
    const before = t.rows.length;
    t.rows = where ? t.rows.filter((r) => !matchesAll([where], r)) : [];
    return before - t.rows.length;
  }
  async dropTable(table: string): Promise<void> {
    this.#tables.delete(table);
  }

  async tableMarks(requests: readonly MarkRequest[]): Promise<TableMark[]> {
    return requests.map(({ table, since }) => {
      const rows = this.#tables.get(table)?.rows ?? [];
      let latest = Number.NEGATIVE_INFINITY;
      let after = 0;
      for (const r of rows) {
        const t = effectiveTime(r);
        if (t > latest) latest = t;
        if (since === null || t > since.getTime()) after++;
      }
      return {
        rows: rows.length,
        latest: Number.isFinite(latest) ? new Date(Math.floor(latest)) : null,
        since: after,
      };
    });
  }

  async resolveUpdate(plan: ResolveUpdatePlan): Promise<IncrementSource> {
    const result = await evaluateResolveUpdate(
      plan,
      async (q) => {
        const t = this.#tables.get(q.table);
        return t ? readLatest(t.rows, q) : null;
      },
      async (table) => this.#tables.get(table)?.rows ?? null,
    );
    const byKind: Record<IncrementKind, Row[]> = {
      new: result.new,
      stale: result.stale,
      orphaned: result.orphaned,
      failed: result.failed,
    };
    const counts = {
      new: result.new.length,
      stale: result.stale.length,
      orphaned: result.orphaned.length,
      failed: result.failed.length,
    };
    const stages = this.#stages;
    return {
      counts: async () => counts,
      async *rows(kind: IncrementKind, batchSize: number) {
        const rows = byKind[kind];
        for (let i = 0; i < rows.length; i += batchSize) yield rows.slice(i, i + batchSize);
      },
      progress: async () => {
        if (!result.input) return null;
        const ids = plan.diffColumns;
        const total = new Set(result.input.map((r) => tupleKey(r, ids))).size;
        const missing = new Set(result.new.map((r) => tupleKey(r, ids))).size;
        return { total, missing };
      },
      stage: async (stageId: string) => {
        stages.set(stageId, {
          // A stage holds rows to process and orphans; failed rows stay out of it.
          counts: { ...counts, failed: 0 },
          toProcess: [...result.new, ...result.stale],
          orphaned: result.orphaned,
        });
        return this.openStage(stageId);
      },
      dispose: async () => {},
    };
  }

  async openStage(stageId: string): Promise<StagedIncrementSource> {
    const stage = this.#stages.get(stageId);
    if (!stage) throw new MetadataStoreError(`No staged increment "${stageId}"`, { stageId });
    const stages = this.#stages;
    return {
      stageId,
      counts: async () => stage.counts,
      page: async (offset, limit) => stage.toProcess.slice(offset, offset + limit),
      async *orphans(batchSize: number) {
        for (let i = 0; i < stage.orphaned.length; i += batchSize)
          yield stage.orphaned.slice(i, i + batchSize);
      },
      drop: async () => {
        stages.delete(stageId);
      },
    };
  }

  #readRows(query: ReadQuery): Row[] {
    const t = this.#tables.get(query.table);
    return t ? readLatest(t.rows, query) : [];
  }
}

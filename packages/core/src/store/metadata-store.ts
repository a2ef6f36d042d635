import {
  FeatureNotFoundError,
  HashAlgorithmNotSupportedError,
  MetadataSchemaError,
  StoreNotOpenError,
  TableNotFoundError,
  ValidationError,
} from "../errors.js";
import { parseFilters } from "../filters/filter-parser.js";
import type { FeatureGraph } from "../graph/feature-graph.js";
import { type FeatureKey, assertUserFeatureKey } from "../keys.js";
import { buildResolveUpdatePlan, upstreamReads } from "../plan/build-plan.js";
import { type Expr, and, eq } from "../plan/expression.js";
import type { ReadQuery } from "../plan/read-query.js";
import type { ResolveUpdatePlan, Row } from "../plan/resolve-update-plan.js";
import { type FeatureDefinition, type FeatureRef, toFeatureKey } from "../spec/define-feature.js";
import { DELETED_AT, FEATURE_VERSION, MATERIALIZATION_ID } from "../spec/system-columns.js";
import type { HashAlgorithm } from "../versioning/hash-algorithms.js";
import { assertHashAlgorithm, initHashing, isXxhash } from "../versioning/hash-algorithms.js";
import { type AccessMode, type Backend, type TableWrite, assertSpecificationVersion } from "./backend.js";
import { checkedBackend } from "./checked-backend.js";
import { checkStoredHashAlgorithm } from "./hash-check.js";
import { assertFallbackAlgorithms, findInFallbacks, upstreamSource } from "./fallback-stores.js";
import {
  type PushOptions,
  type SnapshotContext,
  listGraphSnapshots,
  loadGraphSnapshot,
  pushGraphSnapshot,
} from "./graph-snapshots.js";
import { writeFingerprint } from "./idempotency.js";
import { whileOpen } from "./open-guard.js";
import { CHECKPOINTS_TABLE, pendingTable, runResolve } from "./resolve-checkpoints.js";
import { TableLocks } from "./table-locks.js";
import { Increment, StagedIncrement, assertStageId } from "./increment.js";
import type { FeatureColumn, FeatureRow, ReadRow, SampleRow } from "./row-types.js";
import type { GraphSnapshotSummary, PushResult } from "./system-tables.js";
import { prepareWrite } from "./write-preparation.js";
import { type FailureInfo, failedRecordsTable, failedRecordsWrite, failuresQuery } from "./failed-records.js";

export type FilterInput = string | Expr | readonly (string | Expr)[];

/** Columns increment rows take from the samples they were resolved with (`unknown` without samples). */
type SampleColumns<S> = [S] extends [never] ? unknown : S;

export interface MetadataStoreOptions {
  graph: FeatureGraph;
  /** `"w"` (default) to write, `"r"` to only read and resolve. */
  mode?: AccessMode;
  /** Record-level hash. Default: the backend's default. */
  hashAlgorithm?: HashAlgorithm;
  /** Stores read (whole feature at a time) when a feature is absent here. Same hash algorithm required. */
  fallbackStores?: MetadataStore[];
  /** Written into `metaxy_materialization_id` unless a write names its own. */
  materializationId?: string;
  /** Create feature tables on first write. Default true (Python Metaxy defaults to false). */
  autoCreateTables?: boolean;
  /**
   * Rows per batch when this store streams rows: `readBatches` by default, and rows read from
   * fallback stores (upstreams of a resolve, soft deletes). Default 10,000.
   */
  readBatchSize?: number;
  name?: string;
  /**
   * An incremental resolve tracks the keys it leaves pending up to this many (default 100,000);
   * above it the next resolve of that plan is full.
   */
  incrementalMaxPending?: number;
}

export interface WriteOptions {
  materializationId?: string;
  /** Keep the rows' own metaxy_feature_version / metaxy_project_version. */
  preserveFeatureVersion?: boolean;
  /** A retried write with the same key adds no second copy. */
  idempotencyKey?: string;
  /** Validate user columns against the zod schema. Default true. */
  validate?: boolean;
}

export interface ReadOptions<C extends string = string> {
  /** Rows of this feature version (needs `withFeatureHistory`... or names one version explicitly). */
  featureVersion?: string;
  filters?: FilterInput;
  /** Exactly these columns (typed with `Pick` for a typed feature); system columns only when named. */
  columns?: readonly C[];
  allowFallback?: boolean;
  withFeatureHistory?: boolean;
  withSampleHistory?: boolean;
  includeSoftDeleted?: boolean;
}

export interface ResolveUpdateOptions<F = FeatureDefinition, S = SampleRow<F>> {
  /**
   * Expected rows for a root feature (or to bypass upstream reads): each with
   * metaxy_provenance_by_field. Increment rows then carry (and are typed with) their columns.
   */
  samples?: readonly S[];
  /** Runtime filters per feature key string (upstream reads, and the target). */
  filters?: Readonly<Record<string, FilterInput>>;
  globalFilters?: FilterInput;
  targetFilters?: FilterInput;
  /** Stored rows matching any of these are stale whatever their provenance. */
  stalenessPredicates?: FilterInput;
  skipComparison?: boolean;
  /** Treat records that failed at their current provenance as new / stale again. */
  retryFailed?: boolean;
  /**
   * Evaluate only what changed since the last resolve of the same plan (default true); the
   * increment's `mode` and `reason` say what happened. `false` forces a full resolve.
   */
  incremental?: boolean;
}

export interface DeleteOptions {
  /** Soft delete (default) appends tombstones; hard delete removes rows. */
  soft?: boolean;
  withFeatureHistory?: boolean;
  withSampleHistory?: boolean;
}

const DEFAULT_READ_BATCH = 10_000;
const DEFAULT_MAX_PENDING = 100_000;

/**
 * Metadata of every feature in one backend: append-only writes with system columns, latest-row
 * reads, `resolveUpdate`, deletes and graph snapshots (SPEC §4).
 */
export class MetadataStore implements AsyncDisposable {
  readonly graph: FeatureGraph;
  readonly backend: Backend;
  readonly hashAlgorithm: HashAlgorithm;
  readonly name: string | undefined;
  readonly fallbackStores: readonly MetadataStore[];
  readonly #mode: AccessMode;
  readonly #materializationId: string | null;
  readonly #autoCreate: boolean;
  readonly #batchSize: number;
  readonly #maxPending: number;
  #open = false;
  /** Features whose stored rows were checked against this store's hash algorithm. */
  readonly #hashChecked = new Set<string>();
  #lastTimestamp = 0;
  readonly #locks = new TableLocks();

  private constructor(backend: Backend, options: MetadataStoreOptions) {
    // Checks queries against stored schemas and types every engine error (checked-backend.ts).
    this.backend = checkedBackend(backend, options.graph);
    this.graph = options.graph;
    this.#mode = options.mode ?? "w";
    this.name = options.name;
    this.fallbackStores = options.fallbackStores ?? [];
    this.#materializationId = options.materializationId ?? null;
    this.#autoCreate = options.autoCreateTables ?? true;
    this.#batchSize = options.readBatchSize ?? DEFAULT_READ_BATCH;
    this.#maxPending = options.incrementalMaxPending ?? DEFAULT_MAX_PENDING;
    if (!Number.isInteger(this.#batchSize) || this.#batchSize <= 0)
      throw new ValidationError(`readBatchSize must be a positive integer, got ${this.#batchSize}`, {
        readBatchSize: this.#batchSize,
      });
    const algo = options.hashAlgorithm ?? backend.capabilities.defaultHashAlgorithm;
    assertHashAlgorithm(algo);
    if (!backend.capabilities.hashAlgorithms.includes(algo))
      throw new HashAlgorithmNotSupportedError(
        `Backend ${backend.display()} does not support hash algorithm "${algo}" (supported: ${backend.capabilities.hashAlgorithms.join(", ")})`,
        { algorithm: algo },
      );
    this.hashAlgorithm = algo;
    assertFallbackAlgorithms(this.fallbackStores, algo);
  }

  /** Opens a store on `backend`. Close it with `await using` or `close()`. */
  static async open(backend: Backend, options: MetadataStoreOptions): Promise<MetadataStore> {
    assertSpecificationVersion(backend);
    const store = new MetadataStore(backend, options);
    options.graph.validate();
    if (isXxhash(store.hashAlgorithm)) await initHashing();
    await store.backend.open(store.#mode);
    store.#open = true;
    return store;
  }

  get mode(): AccessMode {
    return this.#mode;
  }
  get isOpen(): boolean {
    return this.#open;
  }
  get truncation(): number {
    return this.graph.hashTruncationLength;
  }

  display(): string {
    return (this.name ? `[${this.name}] ` : "") + this.backend.display();
  }

  async close(): Promise<void> {
    if (!this.#open) return;
    this.#open = false;
    await this.backend.close();
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- writes ----

  /** Appends rows (all or nothing). Each row needs `metaxy_provenance_by_field`; system columns are filled. */
  async write<F extends FeatureDefinition>(
    feature: F | FeatureRef,
    rows: readonly FeatureRow<F>[],
    options: WriteOptions = {},
  ): Promise<number> {
    this.#assertWritable();
    const def = this.graph.get(feature as FeatureRef);
    const [n] = await this.#commit([[def, rows as readonly Row[]]], options);
    return n;
  }

  /**
   * Writes several features in one transaction: every feature's rows are checked first, then all
   * are committed together or none is. An idempotency key applies to each feature separately.
   */
  async writeMulti(
    batches: ReadonlyMap<FeatureRef, readonly Row[]> | Record<string, readonly Row[]>,
    options: WriteOptions = {},
  ): Promise<number> {
    this.#assertWritable();
    const entries = batches instanceof Map ? [...batches.entries()] : Object.entries(batches);
    const byKey = new Map<string, readonly Row[]>();
    for (const [k, rows] of entries) {
      const key = toFeatureKey(k as FeatureRef).toString();
      if (byKey.has(key))
        throw new ValidationError(`writeMulti names feature "${key}" twice`, { feature: key });
      byKey.set(key, rows);
    }
    // Dependents first, as SPEC §4.3 orders them (one transaction makes the order unobservable).
    const ordered = this.graph
      .topologicalSort(byKey.keys(), { descending: true })
      .map((key) => [this.graph.get(key), byKey.get(key.toString())!] as const);
    const counts = await this.#commit(ordered, options);
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Checks and prepares every feature's rows, then hands them to the backend as one write. */
  async #commit(
    entries: ReadonlyArray<readonly [FeatureDefinition, readonly Row[]]>,
    options: WriteOptions,
    softDelete = false,
  ): Promise<number[]> {
    for (const [def, rows] of entries)
      if (!Array.isArray(rows))
        throw new MetadataSchemaError(`Cannot write feature "${def.key}": rows must be an array`, {
          feature: def.key.toString(),
        });
    // Empty entries take no part in the write: they count 0.
    const live = entries.flatMap(([def, rows], i) => (rows.length > 0 ? [{ def, rows, i }] : []));
    const counts = entries.map(() => 0);
    if (live.length === 0) return counts;
    const timestamp = this.#timestamp();
    const appended = await this.#locks.run(
      live.map(({ def }) => def.key.tableName),
      async () => {
        const writes: TableWrite[] = [];
        for (const { def, rows } of live) {
          const table = def.key.tableName;
          const existing = await this.backend.tableSchema(table);
          if (!existing && !this.#autoCreate)
            throw new TableNotFoundError(
              `Table "${table}" for feature "${def.key}" does not exist and autoCreateTables is off`,
              { feature: def.key.toString() },
            );
          const prepared = prepareWrite(def, rows, {
            graph: this.graph,
            hashAlgorithm: this.hashAlgorithm,
            truncation: this.truncation,
            timestamp,
            materializationId: options.materializationId ?? this.#materializationId,
            preserveFeatureVersion: options.preserveFeatureVersion ?? false,
            softDelete,
            validate: options.validate ?? true,
            existing,
          });
          const key = options.idempotencyKey;
          writes.push({
            table,
            feature: def.key.toString(),
            schema: prepared.schema,
            rows: prepared.rows,
            idColumns: def.spec.idColumns,
            idempotency:
              key === undefined
                ? undefined
                : { key, fingerprint: writeFingerprint(this.graph.featureVersion(def.key), rows) },
          });
        }
        return this.backend.write(writes);
      },
    );
    live.forEach(({ i }, j) => {
      counts[i] = appended[j];
    });
    return counts;
  }

  /** Strictly increasing per store, so two writes in one millisecond still order. */
  #timestamp(): Date {
    const now = Math.max(Date.now(), this.#lastTimestamp + 1);
    this.#lastTimestamp = now;
    return new Date(now);
  }

  // ---- reads ----

  /** Latest live rows of a feature (current version), filters applied after dedup. */
  async read<F extends FeatureDefinition, const C extends FeatureColumn<F> = never>(
    feature: F | FeatureRef,
    options: ReadOptions<C> = {},
  ): Promise<ReadRow<F, C>[]> {
    const out: ReadRow<F, C>[] = [];
    for await (const batch of this.readBatches<F, C>(feature, options)) for (const r of batch) out.push(r);
    return out;
  }

  /** Same as `read`, streamed in batches. */
  async *readBatches<F extends FeatureDefinition, const C extends FeatureColumn<F> = never>(
    feature: F | FeatureRef,
    options: ReadOptions<C> & { batchSize?: number } = {},
  ): AsyncGenerator<ReadRow<F, C>[]> {
    const store = await this.findStoreFor(feature, options.allowFallback ?? true);
    const key = toFeatureKey(feature);
    if (!store) throw this.#notFound(key, options.allowFallback ?? true);
    const rows = store.backend.read(store.#readQuery(key, options), options.batchSize ?? this.#batchSize);
    yield* whileOpen(
      rows as AsyncIterable<ReadRow<F, C>[]>,
      () => this.#open && store.#open,
      `reading "${key}"`,
    );
  }

  /** Rows `read` would return, counted in the engine. */
  async count(feature: FeatureRef, options: ReadOptions = {}): Promise<number> {
    const key = toFeatureKey(feature);
    const store = await this.findStoreFor(feature, options.allowFallback ?? true);
    if (!store) throw this.#notFound(key, options.allowFallback ?? true);
    return store.backend.count(store.#readQuery(key, options));
  }

  /** Whether this store (or, with `checkFallback`, a fallback) has the feature's table. */
  async hasFeature(feature: FeatureRef, checkFallback = false): Promise<boolean> {
    return (await this.findStoreFor(feature, checkFallback)) !== null;
  }

  /** The first store in this → fallbacks order that has the feature (whole-feature granularity). */
  async findStoreFor(feature: FeatureRef, checkFallback = true): Promise<MetadataStore | null> {
    this.#assertOpen();
    const key = toFeatureKey(feature);
    assertUserFeatureKey(key);
    if (await this.backend.tableExists(key.tableName)) return this;
    return checkFallback ? findInFallbacks(this.fallbackStores, key) : null;
  }

  #readQuery(key: FeatureKey, options: ReadOptions): ReadQuery {
    const def = this.graph.get(key);
    if (options.featureVersion !== undefined && options.withFeatureHistory === false)
      throw new ValidationError("Cannot specify both featureVersion and withFeatureHistory=false", {
        feature: key.toString(),
      });
    return {
      table: key.tableName,
      idColumns: def.spec.idColumns,
      featureVersion:
        options.featureVersion ?? (options.withFeatureHistory ? null : this.graph.featureVersion(key)),
      latestOnly: !options.withSampleHistory,
      includeSoftDeleted: options.includeSoftDeleted ?? false,
      filters: parseFilters(options.filters as any),
      columns: options.columns ?? null,
    };
  }

  #notFound(key: FeatureKey, fallback: boolean): FeatureNotFoundError {
    return new FeatureNotFoundError(
      `Feature "${key}" not found in store ${this.display()}${fallback && this.fallbackStores.length > 0 ? " or fallback stores" : ""}`,
      { feature: key.toString() },
    );
  }

  // ---- resolve update ----

  /** What must be (re)computed for `feature`: new, stale and orphaned records, computed in the engine. */
  async resolveUpdate<F extends FeatureDefinition, S extends SampleRow<F> = never>(
    feature: F | FeatureRef,
    options: ResolveUpdateOptions<F, S> = {},
  ): Promise<Increment<F, SampleColumns<S>>> {
    this.#assertOpen();
    const key = toFeatureKey(feature);
    if (!this.#hashChecked.has(key.toString())) {
      const { hashAlgorithms } = this.backend.capabilities;
      await checkStoredHashAlgorithm(
        this.backend,
        key.toString(),
        key.tableName,
        this.hashAlgorithm,
        hashAlgorithms,
      );
      this.#hashChecked.add(key.toString());
    }
    const plan = await this.planResolveUpdate(key, options);
    const isOpen = () => this.#open;
    const run = await runResolve(this.backend, plan, {
      enabled: options.incremental ?? true,
      writable: this.#mode === "w",
      maxPending: this.#maxPending,
      maxChangedShare: 0.2,
      now: () => new Date(),
      serialize: (fn) => this.#locks.run([CHECKPOINTS_TABLE, pendingTable(plan.table)], fn),
    });
    return new Increment<F, SampleColumns<S>>(key.toString(), run.source, isOpen, run);
  }

  /** The resolve-update plan this store would run (exposed for backends, tests and `metaxy plan`). */
  async planResolveUpdate(
    feature: FeatureRef,
    options: ResolveUpdateOptions = {},
  ): Promise<ResolveUpdatePlan> {
    const key = toFeatureKey(feature);
    if (key.isSystem)
      throw new ValidationError(`Cannot resolve system feature "${key}"`, { feature: key.toString() });
    const filters: Record<string, Expr[]> = {};
    for (const [k, v] of Object.entries(options.filters ?? {}))
      filters[toFeatureKey(k).toString()] = parseFilters(v as any);
    const planOptions = {
      hashAlgorithm: this.hashAlgorithm,
      truncation: this.truncation,
      samples: options.samples,
      filters,
      globalFilters: parseFilters(options.globalFilters as any),
      targetFilters: parseFilters(options.targetFilters as any),
      stalenessPredicates: parseFilters(options.stalenessPredicates as any),
      skipComparison: options.skipComparison,
    };
    const upstreams = options.samples
      ? undefined
      : await Promise.all(
          upstreamReads(this.graph, key, planOptions).map((u) =>
            upstreamSource(this, u.feature, u.read, this.#batchSize),
          ),
        );
    const plan = buildResolveUpdatePlan(this.graph, key, {
      ...planOptions,
      upstreams,
      storeDescription: `store ${this.display()}${this.fallbackStores.length ? " or its fallback stores" : ""}`,
    });
    // Records that failed for good at their expected provenance are set aside (see failed-records.ts).
    const failedTable = failedRecordsTable(key.tableName);
    if (options.retryFailed || !(await this.backend.tableExists(failedTable))) return plan;
    return { ...plan, failures: failuresQuery(failedTable, plan.diffColumns) };
  }

  // ---- failed records ----

  /**
   * Sets aside increment rows whose computation failed for good: later resolves report them as
   * `failed`, not new or stale, until their expected provenance changes or `retryFailed` is set.
   * `rows` are the increment's rows (they carry the ids and `metaxy_provenance`).
   */
  async recordFailures(feature: FeatureRef, rows: readonly Row[], info: FailureInfo): Promise<number> {
    this.#assertWritable();
    const def = this.graph.get(feature);
    if (rows.length === 0) return 0;
    const keys = this.#incrementKeys(def);
    const table = failedRecordsTable(def.key.tableName);
    return this.#locks.run([table], async () => {
      const write = failedRecordsWrite(
        def.key.toString(),
        def.key.tableName,
        keys,
        rows,
        info,
        this.#timestamp(),
        await this.backend.tableSchema(table),
      );
      return (await this.backend.write([write]))[0];
    });
  }

  /** Every failure recorded for `feature` (each attempt that gave up), oldest first. */
  async *failures(feature: FeatureRef, options: { batchSize?: number } = {}): AsyncGenerator<Row[]> {
    this.#assertOpen();
    const def = this.graph.get(feature);
    const table = failedRecordsTable(def.key.tableName);
    if (!(await this.backend.tableExists(table))) return;
    const query = { ...failuresQuery(table, this.#incrementKeys(def)), columns: null };
    yield* whileOpen(
      this.backend.read(query, options.batchSize ?? this.#batchSize),
      () => this.#open,
      `reading failures of "${def.key}"`,
    );
  }

  /** The columns an increment row is keyed on: the ids, or the parent's for an expansion. */
  #incrementKeys(def: FeatureDefinition): readonly string[] {
    const plan = this.graph.plan(def);
    return plan.inputIdColumns.length > 0 ? plan.inputIdColumns : def.spec.idColumns;
  }

  /**
   * Re-attaches an increment staged with `Increment.stage(stageId)`. Name the feature's type to
   * type its rows: `openStagedIncrement<typeof transcript>(id)`.
   */
  async openStagedIncrement<F extends FeatureDefinition = FeatureDefinition, Extra = unknown>(
    stageId: string,
  ): Promise<StagedIncrement<F, Extra>> {
    this.#assertOpen();
    assertStageId(stageId);
    return new StagedIncrement<F, Extra>(await this.backend.openStage(stageId), () => this.#open);
  }

  // ---- deletes ----

  /** Soft delete (default): appends tombstone rows, so reads drop the samples. Hard delete removes rows. */
  async delete(
    feature: FeatureRef,
    filters: FilterInput | null,
    options: DeleteOptions = {},
  ): Promise<number> {
    this.#assertWritable();
    const def = this.graph.get(feature);
    const exprs = parseFilters((filters ?? []) as any);
    if (options.soft ?? true) {
      const store = await this.findStoreFor(def.key, true);
      if (!store) return 0;
      const query = this.#readQuery(def.key, {
        filters: exprs,
        withFeatureHistory: options.withFeatureHistory,
        withSampleHistory: options.withSampleHistory,
      });
      const ts = this.#timestamp();
      // Tombstones keep the row (versions, timestamps) and mark it deleted (SPEC §4.4).
      const tombstone = { [DELETED_AT]: ts, [MATERIALIZATION_ID]: this.#materializationId };
      if (store === this)
        return this.#locks.run([def.key.tableName], () => this.backend.appendTombstones(query, tombstone));
      // Only a fallback store has the feature: its rows' tombstones are written here.
      let n = 0;
      for await (const batch of store.backend.read(query, this.#batchSize))
        n += (
          await this.#commit(
            [[def, batch.map((r) => ({ ...r, ...tombstone }))]],
            { preserveFeatureVersion: true, validate: false },
            true,
          )
        )[0];
      return n;
    }
    if (!(await this.backend.tableExists(def.key.tableName))) return 0;
    const scope: Expr[] = options.withFeatureHistory
      ? []
      : [eq(FEATURE_VERSION, this.graph.featureVersion(def.key))];
    const where = [...scope, ...exprs];
    return this.backend.deleteRows(def.key.tableName, where.length === 0 ? null : and(...where));
  }

  /** Drops the feature's whole table. */
  async dropFeature(feature: FeatureRef): Promise<void> {
    this.#assertWritable();
    const key = toFeatureKey(feature);
    assertUserFeatureKey(key); // never a system table, nor one a key aliases (`metaxy_system/...`)
    await this.backend.dropTable(key.tableName);
  }

  // ---- system tables ----

  /** Records the graph of `project` (default: the graph's) in `metaxy_system__feature_versions`. */
  async pushGraphSnapshot(options: PushOptions = {}): Promise<PushResult> {
    this.#assertWritable();
    return pushGraphSnapshot(this.#snapshots(), options);
  }

  /** Pushed snapshots of a project, newest first. */
  async graphSnapshots(project: string = this.graph.project): Promise<GraphSnapshotSummary[]> {
    this.#assertOpen();
    return listGraphSnapshots(this.#snapshots(), project);
  }

  /** Rebuilds the graph recorded under a project version (never imports code). */
  async loadGraphSnapshot(
    projectVersion: string,
    project: string = this.graph.project,
  ): Promise<FeatureGraph> {
    this.#assertOpen();
    return loadGraphSnapshot(this.#snapshots(), projectVersion, project);
  }

  #snapshots(): SnapshotContext {
    return {
      graph: this.graph,
      backend: this.backend,
      truncation: this.truncation,
      batchSize: this.#batchSize,
      timestamp: () => this.#timestamp(),
    };
  }

  #assertOpen(): void {
    if (!this.#open) throw new StoreNotOpenError(`Store ${this.display()} must be opened before use`);
  }
  #assertWritable(): void {
    this.#assertOpen();
    if (this.#mode !== "w")
      throw new StoreNotOpenError(
        `Store ${this.display()} is open in read mode; open it with mode "w" to write`,
      );
  }
}

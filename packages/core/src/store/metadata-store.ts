import {
  FeatureNotFoundError,
  HashAlgorithmNotSupportedError,
  MetadataSchemaError,
  StoreNotOpenError,
  SystemDataNotFoundError,
  TableNotFoundError,
  ValidationError,
} from "../errors.js";
import { parseFilters } from "../filters/filter-parser.js";
import { DEFAULT_PROJECT, type FeatureGraph } from "../graph/feature-graph.js";
import { type FeatureKey, assertUserFeatureKey } from "../keys.js";
import { type GraphSnapshot, graphFromSnapshot } from "../graph/snapshot.js";
import { buildResolveUpdatePlan } from "../plan/build-plan.js";
import { type Expr, and, eq } from "../plan/expression.js";
import type { ReadQuery } from "../plan/read-query.js";
import type { ResolveUpdatePlan, Row } from "../plan/resolve-update-plan.js";
import {
  type FeatureDefinition,
  type FeatureRef,
  type AnyZodObject,
  specToJson,
  toFeatureKey,
} from "../spec/define-feature.js";
import {
  DELETED_AT,
  FEATURE_VERSION,
  MATERIALIZATION_ID,
  type SystemColumn,
} from "../spec/system-columns.js";
import type { HashAlgorithm } from "../versioning/hash-algorithms.js";
import { assertHashAlgorithm } from "../versioning/hash-algorithms.js";
import type { AccessMode, Backend, TableWrite } from "./backend.js";
import { checkedBackend } from "./checked-backend.js";
import { writeFingerprint } from "./idempotency.js";
import { whileOpen } from "./open-guard.js";
import { TableLocks } from "./table-locks.js";
import { Increment, StagedIncrement, assertStageId } from "./increment.js";
import {
  FEATURE_VERSIONS_KEY,
  FEATURE_VERSIONS_SCHEMA,
  type GraphSnapshotSummary,
  METAXY_TS_VERSION,
  type PushResult,
} from "./system-tables.js";
import { prepareWrite } from "./write-preparation.js";
import type { z } from "zod";

export type FilterInput = string | Expr | readonly (string | Expr)[];

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
  name?: string;
}

/** Row type of a feature: its zod schema's input plus optional system columns. */
export type FeatureRow<F> =
  F extends FeatureDefinition<infer S>
    ? S extends AnyZodObject
      ? z.input<S> & Partial<Record<SystemColumn, unknown>>
      : Row
    : Row;
export type FeatureReadRow<F> =
  F extends FeatureDefinition<infer S>
    ? S extends AnyZodObject
      ? z.output<S> & Record<SystemColumn, unknown>
      : Row
    : Row;

export interface WriteOptions {
  materializationId?: string;
  /** Keep the rows' own metaxy_feature_version / metaxy_project_version. */
  preserveFeatureVersion?: boolean;
  /** A retried write with the same key adds no second copy. */
  idempotencyKey?: string;
  /** Validate user columns against the zod schema. Default true. */
  validate?: boolean;
}

export interface ReadOptions {
  /** Rows of this feature version (needs `withFeatureHistory`... or names one version explicitly). */
  featureVersion?: string;
  filters?: FilterInput;
  columns?: string[];
  allowFallback?: boolean;
  withFeatureHistory?: boolean;
  withSampleHistory?: boolean;
  includeSoftDeleted?: boolean;
}

export interface ResolveUpdateOptions {
  /** Expected rows for a root feature (or to bypass upstream reads): each with metaxy_provenance_by_field. */
  samples?: readonly Row[];
  /** Runtime filters per feature key string (upstream reads, and the target). */
  filters?: Readonly<Record<string, FilterInput>>;
  globalFilters?: FilterInput;
  targetFilters?: FilterInput;
  /** Stored rows matching any of these are stale whatever their provenance. */
  stalenessPredicates?: FilterInput;
  skipComparison?: boolean;
}

export interface DeleteOptions {
  /** Soft delete (default) appends tombstones; hard delete removes rows. */
  soft?: boolean;
  withFeatureHistory?: boolean;
  withSampleHistory?: boolean;
}

const READ_BATCH = 10_000;

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
  #open = false;
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
    const algo = options.hashAlgorithm ?? backend.capabilities.defaultHashAlgorithm;
    assertHashAlgorithm(algo);
    if (!backend.capabilities.hashAlgorithms.includes(algo))
      throw new HashAlgorithmNotSupportedError(
        `Backend ${backend.display()} does not support hash algorithm "${algo}" (supported: ${backend.capabilities.hashAlgorithms.join(", ")})`,
        { algorithm: algo },
      );
    this.hashAlgorithm = algo;
    this.fallbackStores.forEach((s, i) => {
      if (s.hashAlgorithm !== algo)
        throw new ValidationError(
          `Fallback store ${i} uses hash_algorithm=${s.hashAlgorithm}, but this store uses ${algo}; all stores in a fallback chain must use the same algorithm`,
          { algorithm: algo },
        );
    });
  }

  /** Opens a store on `backend`. Close it with `await using` or `close()`. */
  static async open(backend: Backend, options: MetadataStoreOptions): Promise<MetadataStore> {
    const store = new MetadataStore(backend, options);
    options.graph.validate();
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
  async read<F extends FeatureDefinition>(
    feature: F | FeatureRef,
    options: ReadOptions = {},
  ): Promise<FeatureReadRow<F>[]> {
    const out: Row[] = [];
    for await (const batch of this.readBatches(feature, options)) for (const r of batch) out.push(r);
    return out as FeatureReadRow<F>[];
  }

  /** Same as `read`, streamed in batches. */
  async *readBatches(
    feature: FeatureRef,
    options: ReadOptions & { batchSize?: number } = {},
  ): AsyncGenerator<Row[]> {
    const store = await this.findStoreFor(feature, options.allowFallback ?? true);
    const key = toFeatureKey(feature);
    if (!store) throw this.#notFound(key, options.allowFallback ?? true);
    const rows = store.backend.read(store.#readQuery(key, options), options.batchSize ?? READ_BATCH);
    yield* whileOpen(rows, () => this.#open && store.#open, `reading "${key}"`);
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
    if (checkFallback)
      for (const f of this.fallbackStores) {
        const found = await f.findStoreFor(key, true);
        if (found) return found;
      }
    return null;
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
  async resolveUpdate(feature: FeatureRef, options: ResolveUpdateOptions = {}): Promise<Increment> {
    this.#assertOpen();
    const key = toFeatureKey(feature);
    const plan = await this.planResolveUpdate(key, options);
    const isOpen = () => this.#open;
    return new Increment(key.toString(), await this.backend.resolveUpdate(plan), isOpen);
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
    const plan = buildResolveUpdatePlan(this.graph, key, {
      hashAlgorithm: this.hashAlgorithm,
      truncation: this.truncation,
      samples: options.samples,
      filters,
      globalFilters: parseFilters(options.globalFilters as any),
      targetFilters: parseFilters(options.targetFilters as any),
      stalenessPredicates: parseFilters(options.stalenessPredicates as any),
      skipComparison: options.skipComparison,
    });
    if (plan.expected.kind !== "upstreams") return plan;
    // Upstreams absent here are read from the first fallback store that has them.
    const upstreams = await Promise.all(
      plan.expected.upstreams.map(async (u) => {
        if (await this.backend.tableExists(u.read.table)) return u;
        for (const f of this.fallbackStores) {
          const found = await f.findStoreFor(u.feature, true);
          if (found) {
            const rows: Row[] = [];
            for await (const b of found.backend.read(u.read, READ_BATCH)) rows.push(...b);
            return { ...u, inline: rows };
          }
        }
        throw new FeatureNotFoundError(
          `Feature "${u.feature}" (a dependency of "${key}") has no metadata in store ${this.display()}${this.fallbackStores.length ? " or its fallback stores" : ""}; materialise it first`,
          { feature: u.feature, dependent: key.toString() },
        );
      }),
    );
    return { ...plan, expected: { kind: "upstreams", upstreams } };
  }

  /** Re-attaches an increment staged with `Increment.stage(stageId)`. */
  async openStagedIncrement(stageId: string): Promise<StagedIncrement> {
    this.#assertOpen();
    assertStageId(stageId);
    return new StagedIncrement(await this.backend.openStage(stageId), () => this.#open);
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
      for await (const batch of store.backend.read(query, READ_BATCH))
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
  async pushGraphSnapshot(
    options: { project?: string; tags?: Record<string, string> } = {},
  ): Promise<PushResult> {
    this.#assertWritable();
    const project = options.project ?? this.graph.project ?? DEFAULT_PROJECT;
    if (options.tags && "metaxy" in options.tags) throw new ValidationError('Tag "metaxy" is reserved');
    const features = this.graph.listFeatures({ project });
    if (features.length === 0)
      throw new ValidationError(`Project "${project}" has no features to push`, { project });
    const projectVersion = this.graph.projectVersion(project);
    const recordedAt = this.#timestamp();
    const tags = JSON.stringify({
      ...(options.tags ?? {}),
      metaxy: JSON.stringify({ version: METAXY_TS_VERSION }),
    });
    let rows: Row[] = features.map((f) => ({
      project,
      feature_key: f.key.toString(),
      metaxy_feature_version: this.graph.featureVersion(f.key),
      metaxy_definition_version: this.graph.definitionVersion(f.key),
      recorded_at: recordedAt,
      feature_spec: JSON.stringify(specToJson(f.spec)),
      feature_schema: JSON.stringify(f.featureSchema),
      feature_class_path: f.source,
      metaxy_project_version: projectVersion,
      tags,
      deleted_at: null,
    }));
    const existing = await this.#featureVersionRows(project);
    const latest = existing.reduce<Row | null>(
      (a, r) => (!a || (r.recorded_at as Date) > (a.recorded_at as Date) ? r : a),
      null,
    );
    const alreadyPushed = latest?.metaxy_project_version === projectVersion;
    let updated: string[] = [];
    if (alreadyPushed) {
      const recorded = new Map<string, Row>();
      for (const r of existing)
        if (r.metaxy_project_version === projectVersion) {
          const prev = recorded.get(r.feature_key as string);
          if (!prev || (r.recorded_at as Date) >= (prev.recorded_at as Date))
            recorded.set(r.feature_key as string, r);
        }
      rows = rows.filter(
        (r) =>
          recorded.get(r.feature_key as string)?.metaxy_definition_version !== r.metaxy_definition_version,
      );
      updated = rows.map((r) => r.feature_key as string);
    }
    if (rows.length > 0)
      await this.backend.write([
        {
          table: FEATURE_VERSIONS_KEY.tableName,
          feature: FEATURE_VERSIONS_KEY.toString(),
          schema: FEATURE_VERSIONS_SCHEMA,
          rows,
        },
      ]);
    return { projectVersion, alreadyPushed, updatedFeatures: updated };
  }

  /** Pushed snapshots of a project, newest first. */
  async graphSnapshots(project: string = this.graph.project): Promise<GraphSnapshotSummary[]> {
    const rows = await this.#featureVersionRows(project);
    const byVersion = new Map<string, { recordedAt: Date; features: Set<string> }>();
    for (const r of rows) {
      const v = r.metaxy_project_version as string;
      const entry = byVersion.get(v) ?? { recordedAt: r.recorded_at as Date, features: new Set<string>() };
      if ((r.recorded_at as Date) < entry.recordedAt) entry.recordedAt = r.recorded_at as Date;
      entry.features.add(r.feature_key as string);
      byVersion.set(v, entry);
    }
    return [...byVersion.entries()]
      .map(([projectVersion, e]) => ({
        projectVersion,
        recordedAt: e.recordedAt,
        featureCount: e.features.size,
      }))
      .sort((a, b) => b.recordedAt.getTime() - a.recordedAt.getTime());
  }

  /** Rebuilds the graph recorded under a project version (never imports code). */
  async loadGraphSnapshot(
    projectVersion: string,
    project: string = this.graph.project,
  ): Promise<FeatureGraph> {
    const rows = (await this.#featureVersionRows(project)).filter(
      (r) => r.metaxy_project_version === projectVersion,
    );
    if (rows.length === 0)
      throw new SystemDataNotFoundError(
        `No graph snapshot ${projectVersion} for project "${project}". Run \`metaxy push\` first.`,
        {
          project,
          projectVersion,
        },
      );
    const latest = new Map<string, Row>();
    for (const r of rows) latest.set(r.feature_key as string, r);
    const snapshot: GraphSnapshot = {};
    for (const [key, r] of latest)
      snapshot[key] = {
        feature_spec: JSON.parse(r.feature_spec as string),
        feature_schema: JSON.parse(r.feature_schema as string),
        metaxy_feature_version: r.metaxy_feature_version as string,
        metaxy_definition_version: r.metaxy_definition_version as string,
        feature_class_path: (r.feature_class_path as string | null) ?? null,
        project,
      };
    return graphFromSnapshot(snapshot, { project, hashTruncationLength: this.truncation });
  }

  async #featureVersionRows(project: string): Promise<Row[]> {
    this.#assertOpen();
    const table = FEATURE_VERSIONS_KEY.tableName;
    if (!(await this.backend.tableExists(table))) return [];
    const out: Row[] = [];
    const query: ReadQuery = {
      table,
      idColumns: [],
      featureVersion: null,
      latestOnly: false,
      includeSoftDeleted: true,
      filters: [eq("project", project)],
      columns: null,
    };
    for await (const b of this.backend.read(query, READ_BATCH)) out.push(...b);
    return out;
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

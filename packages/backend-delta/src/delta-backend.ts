import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import {
  type AccessMode,
  type Backend,
  type BackendCapabilities,
  type Expr,
  type HashAlgorithm,
  IdempotencyConflictError,
  MetadataSchemaError,
  MetadataStoreError,
  type ResolveUpdatePlan,
  type Row,
  StoreNotOpenError,
} from "@metaxy/core";
import {
  BACKEND_SPEC_VERSION,
  type IncrementSource,
  type ReadQuery,
  type StagedIncrementSource,
  type TableSchema,
  type TableWrite,
  type TombstoneValues,
  compileExpr,
  sqlLiteral,
} from "@metaxy/core/backend";
import { DeltaProtocolError } from "./delta-errors.js";
import {
  type Action,
  type AddFile,
  type CheckpointIO,
  DeltaLog,
  type FileOrder,
  ORDER_TAG,
  type Snapshot,
  checkReadable,
  filePath,
  formatOrder,
} from "./delta-log.js";
import { compileRead, duckType, duckdbSession, q, s } from "./duckdb-adapter.js";
import {
  type StructField,
  fieldsOf,
  logicalType,
  physicalDuckType,
  sameType,
  schemaString,
  sparkField,
  tableSchemaOf,
} from "./spark-schema.js";
import { type DeltaLayout, featureDir, scanTables } from "./table-dirs.js";

export interface DeltaBackendOptions {
  /** Directory holding one Delta table per feature (created on first write). */
  root: string;
  /** Python Metaxy's table layout: `nested` (default, `<root>/a/b.delta`) or `flat` (`<root>/a__b.delta`). */
  layout?: DeltaLayout;
  /**
   * A Parquet checkpoint after every commit whose version is a multiple of this (default 10;
   * 0 turns them off). See the package README for what was measured.
   */
  checkpointInterval?: number;
  /** Default record hash: `md5` (native in DuckDB). */
  hashAlgorithm?: HashAlgorithm;
  /** DuckDB options for the in-process compute engine (`threads`, `memory_limit`, ...). */
  config?: Record<string, string>;
}

/** Stages (persisted increments) live here, beside the tables; the table scan skips `_*`. */
const STAGES_DIR = "_metaxy/stages";
const LOAD_PREFIX = "metaxy_delta__load_";
/** The checkpoint columns, typed as delta-rs 1.6 writes them. */
const CHECKPOINT_COLUMNS: Record<string, string> = {
  protocol:
    "STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], writerFeatures VARCHAR[])",
  metaData:
    'STRUCT(id VARCHAR, "name" VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, "options" MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], createdTime BIGINT, "configuration" MAP(VARCHAR, VARCHAR))',
  txn: 'STRUCT(appId VARCHAR, "version" BIGINT, lastUpdated BIGINT)',
  add: 'STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR, tags MAP(VARCHAR, VARCHAR), deletionVector STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, "offset" INTEGER, sizeInBytes INTEGER, cardinality BIGINT), baseRowId BIGINT, defaultRowCommitVersion BIGINT, clusteringProvider VARCHAR)',
  remove:
    "STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, extendedFileMetadata BOOLEAN, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT)",
};

/**
 * Delta Lake tables on a filesystem: one table per feature, laid out as Python Metaxy's Delta
 * store lays them out, readable and writable by delta-rs, safe with many writer processes.
 */
export function delta(options: DeltaBackendOptions): Backend {
  return new DeltaBackend(options);
}

/** A file written for a commit, before the commit. */
interface WrittenFile {
  add: Omit<AddFile, "tags">;
  /** The fields its columns were written as. */
  fields: StructField[];
}

class DeltaBackend implements Backend {
  readonly specificationVersion = BACKEND_SPEC_VERSION;
  readonly kind = "delta";
  readonly capabilities: BackendCapabilities;
  readonly #root: string;
  readonly #layout: DeltaLayout;
  readonly #options: DeltaBackendOptions;
  #instance: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;
  /** One statement at a time on the backend's own connection. */
  #queue: Promise<unknown> = Promise.resolve();
  #readOnly = false;
  readonly #logs = new Map<string, DeltaLog>();
  readonly #dirs = new Map<string, string>();
  /** Data files are immutable: their columns are read once. */
  readonly #fileColumns = new Map<string, Set<string>>();
  /** DuckDB sessions that outlive their call (increments, stages), closed with the backend. */
  readonly #sessions = new Set<Backend>();
  /** Stage id → the view names its files are exposed under in this process. */
  readonly #stages = new Map<string, { names: [string, string]; persisted: boolean }>();
  #stageLock: Promise<unknown> = Promise.resolve();
  #counter = 0;
  readonly #checkpoints: CheckpointIO = {
    read: (path) => this.#readCheckpoint(path),
    write: (path, actions) => this.#writeCheckpoint(path, actions),
  };

  constructor(options: DeltaBackendOptions) {
    this.#options = options;
    this.#root = options.root;
    this.#layout = options.layout ?? "nested";
    this.capabilities = {
      hashAlgorithms: ["md5", "sha256", "xxhash64", "xxhash32", "xxh3_64"],
      defaultHashAlgorithm: options.hashAlgorithm ?? "md5",
      atomicWrites: true,
    };
  }

  display(): string {
    return `delta(${this.#root})`;
  }

  async open(mode: AccessMode): Promise<void> {
    if (this.#instance) return;
    this.#readOnly = mode === "r";
    if (!this.#readOnly) await mkdir(this.#root, { recursive: true });
    // One in-memory engine per backend (creating one costs 20-100 ms); every operation takes a
    // fresh DuckDB session on it and views of the snapshots it reads.
    const instance = await DuckDBInstance.create(":memory:", { ...this.#options.config });
    const connection = await instance.connect();
    await connection.run("SET TimeZone = 'UTC'");
    this.#instance = instance;
    this.#connection = connection;
  }

  async close(): Promise<void> {
    const instance = this.#instance;
    if (!instance) return;
    await this.#queue;
    for (const session of this.#sessions) await session.close().catch(() => undefined);
    this.#sessions.clear();
    this.#connection?.closeSync();
    this.#connection = undefined;
    this.#instance = undefined;
    instance.closeSync();
    this.#logs.clear();
    this.#stages.clear();
  }

  #exclusive<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const c = this.#connection;
    if (!c) return Promise.reject(new StoreNotOpenError(`Delta backend ${this.display()} is not open`));
    const next = this.#queue.then(() => fn(c));
    this.#queue = next.catch(() => undefined);
    return next;
  }
  #run(sql: string): Promise<void> {
    return this.#exclusive(async (c) => void (await c.run(sql)));
  }
  #all(sql: string): Promise<Record<string, unknown>[]> {
    return this.#exclusive(async (c) => (await c.runAndReadAll(sql)).getRowObjectsJson());
  }

  /** A DuckDB backend session on this backend's engine: the DuckDB compilers and increments. */
  async #session(): Promise<Backend> {
    if (!this.#instance) throw new StoreNotOpenError(`Delta backend ${this.display()} is not open`);
    const session = duckdbSession({
      instance: this.#instance,
      hashAlgorithm: this.capabilities.defaultHashAlgorithm,
    });
    await session.open("w");
    return session;
  }

  // ---- tables and snapshots ----

  #log(table: string, dir: string): DeltaLog {
    let log = this.#logs.get(table);
    if (!log || log.tableDir !== dir) {
      log = new DeltaLog(dir, table, this.#checkpoints, {
        checkpointInterval: this.#options.checkpointInterval ?? 10,
      });
      this.#logs.set(table, log);
    }
    return log;
  }

  async #dirOf(table: string): Promise<string | null> {
    const known = this.#dirs.get(table);
    if (known && existsSync(join(known, "_delta_log"))) return known;
    for (const [t, dir] of await scanTables(this.#root)) this.#dirs.set(t, dir);
    return this.#dirs.get(table) ?? null;
  }

  async #snapshot(table: string): Promise<{ snapshot: Snapshot; log: DeltaLog } | null> {
    const dir = await this.#dirOf(table);
    if (!dir) return null;
    const log = this.#log(table, dir);
    const snapshot = await log.snapshot();
    if (!snapshot?.metadata) return null;
    checkReadable(snapshot, table);
    return { snapshot, log };
  }

  async tableExists(table: string): Promise<boolean> {
    return (await this.#snapshot(table)) !== null;
  }
  async listTables(): Promise<string[]> {
    const tables = [...(await scanTables(this.#root)).keys()].sort();
    const present = await Promise.all(tables.map((t) => this.tableExists(t)));
    return tables.filter((_, i) => present[i]);
  }
  async tableColumns(table: string): Promise<string[] | null> {
    const found = await this.#snapshot(table);
    return found ? fieldsOf(found.snapshot.metadata).map((f) => f.name) : null;
  }
  async tableSchema(table: string): Promise<TableSchema | null> {
    const found = await this.#snapshot(table);
    return found ? tableSchemaOf(fieldsOf(found.snapshot.metadata)) : null;
  }

  // ---- views of snapshots ----

  async #columnsOf(paths: readonly string[]): Promise<Set<string>[]> {
    const unknown = [...new Set(paths.filter((p) => !this.#fileColumns.has(p)))];
    // One `parquet_schema` over every file not seen yet (a table written in many small commits
    // has many files: one DESCRIBE each made opening it grow with its history).
    if (unknown.length > 1) {
      const rows = await this.#all(
        `SELECT file_name, name, num_children FROM parquet_schema([${unknown.map(s).join(", ")}])`,
      );
      for (const [path, columns] of topLevelColumns(rows)) this.#fileColumns.set(path, columns);
    }
    const out: Set<string>[] = [];
    for (const path of paths) {
      let columns = this.#fileColumns.get(path);
      if (!columns) {
        const rows = await this.#all(`DESCRIBE SELECT * FROM read_parquet(${s(path)})`);
        columns = new Set(rows.map((r) => String(r.column_name)));
        this.#fileColumns.set(path, columns);
      }
      out.push(columns);
    }
    return out;
  }

  /**
   * One SELECT over the snapshot's live files, in write order, with the table's columns as the
   * DuckDB backend types them (a column no file has yet is NULL), plus `rowid`: file position
   * and row number, so "last written wins" ties break as in a DuckDB table. `extra` adds
   * `file_index` / `file_row_number` (hard deletes).
   */
  async #projection(
    dir: string,
    snapshot: Snapshot,
    extra = false,
  ): Promise<{ sql: string; files: string[] }> {
    const fields = fieldsOf(snapshot.metadata);
    const files = snapshot.liveFiles().map((f) => join(dir, filePath(f.add.path)));
    if (files.length === 0) {
      const cols = fields.map((f) => `NULL::${duckType(logicalType(f))} AS ${q(f.name)}`);
      return { sql: `SELECT ${[...cols, "NULL::BIGINT AS rowid"].join(", ")} LIMIT 0`, files };
    }
    const present = new Set((await this.#columnsOf(files)).flatMap((c) => [...c]));
    const cols = fields.map((f) => {
      const type = logicalType(f);
      if (!present.has(f.name)) return `NULL::${duckType(type)} AS ${q(f.name)}`;
      if (type === "json")
        return `${typeof f.type === "string" ? `CAST(${q(f.name)} AS JSON)` : `to_json(${q(f.name)})`} AS ${q(f.name)}`;
      return `CAST(${q(f.name)} AS ${duckType(type)}) AS ${q(f.name)}`;
    });
    cols.push("(file_index::BIGINT << 32) + file_row_number AS rowid");
    if (extra) cols.push("file_index AS __file", "file_row_number AS __row");
    return {
      sql: `SELECT ${cols.join(", ")} FROM read_parquet([${files.map(s).join(", ")}], union_by_name = true)`,
      files,
    };
  }

  /** Exposes each existing table of `tables` as a view of its latest snapshot, under its name. */
  async #expose(tables: Iterable<string>): Promise<Map<string, Snapshot>> {
    const exposed = new Map<string, Snapshot>();
    for (const table of new Set(tables)) {
      const found = await this.#snapshot(table);
      if (!found) continue;
      const { sql } = await this.#projection(found.log.tableDir, found.snapshot);
      await this.#run(`CREATE OR REPLACE VIEW ${q(table)} AS ${sql}`);
      exposed.set(table, found.snapshot);
    }
    return exposed;
  }

  // ---- reads ----

  async *read(query: ReadQuery, batchSize: number): AsyncIterable<Row[]> {
    const exposed = await this.#expose([query.table]);
    const snapshot = exposed.get(query.table);
    if (!snapshot) return;
    const session = await this.#session();
    try {
      // `rowid` is the views' own column: reads name the table's columns.
      const columns = query.columns ?? fieldsOf(snapshot.metadata).map((f) => f.name);
      yield* session.read({ ...query, columns }, batchSize);
    } finally {
      await session.close();
    }
  }

  async count(query: ReadQuery): Promise<number> {
    if ((await this.#expose([query.table])).size === 0) return 0;
    const session = await this.#session();
    try {
      return await session.count(query);
    } finally {
      await session.close();
    }
  }

  // ---- writes ----

  async write(writes: readonly TableWrite[]): Promise<number[]> {
    this.#assertWritable();
    // Every table's snapshot and idempotency key is checked before anything is written.
    const targets = [];
    for (const w of writes) {
      const dir = (await this.#dirOf(w.table)) ?? featureDir(this.#root, w.feature, w.table, this.#layout);
      this.#dirs.set(w.table, dir);
      const log = this.#log(w.table, dir);
      const snapshot = await log.snapshot();
      const replay = w.idempotency ? replayed(snapshot, w) : false;
      targets.push({ w, dir, log, snapshot, replay });
    }
    // Rows are loaded and checked by the DuckDB backend's loader, all tables before any file.
    const pending = targets.filter((t) => !t.replay && t.w.rows.length > 0);
    const session = await this.#session();
    const files = new Map<TableWrite, WrittenFile>();
    try {
      const loads = pending.map((t) => ({ ...t, scratch: `${LOAD_PREFIX}${++this.#counter}` }));
      await session.write(
        loads.map((t) => ({ table: t.scratch, feature: t.w.feature, schema: t.w.schema, rows: t.w.rows })),
      );
      try {
        for (const t of loads) {
          const existing = new Map(fieldsOf(t.snapshot?.metadata).map((f) => [f.name, f]));
          const fields = Object.entries(t.w.schema).map(
            ([n, type]) => existing.get(n) ?? sparkField(n, type),
          );
          files.set(t.w, await this.#writeDataFile(t.dir, `SELECT * FROM ${q(t.scratch)}`, fields));
        }
      } finally {
        for (const t of loads) await session.dropTable(t.scratch);
      }
    } finally {
      await session.close();
    }
    const counts: number[] = [];
    for (const t of targets) {
      if (t.replay) {
        counts.push(0);
        continue;
      }
      const file = files.get(t.w);
      const result = await t.log.commit(async (snapshot) => this.#appendActions(snapshot, t.w, file), {
        operation: "WRITE",
        operationParameters: { mode: "Append" },
      });
      counts.push(result.version === null ? 0 : t.w.rows.length);
    }
    return counts;
  }

  /** The actions appending `file` (and the write's new columns and idempotency key) to `snapshot`. */
  async #appendActions(
    snapshot: Snapshot | null,
    w: TableWrite,
    file: WrittenFile | undefined,
  ): Promise<Action[] | null> {
    if (w.idempotency && replayed(snapshot, w)) return null;
    const version = (snapshot?.version ?? -1) + 1;
    const fields = fieldsOf(snapshot?.metadata);
    const byName = new Map(fields.map((f) => [f.name, f]));
    for (const f of file?.fields ?? []) {
      const have = byName.get(f.name);
      if (have && !sameType(have, f))
        throw new MetadataSchemaError(
          `Column "${f.name}" of feature "${w.feature}" was created as ${JSON.stringify(have.type)} by another writer meanwhile; this write stored it as ${JSON.stringify(f.type)}`,
          { feature: w.feature, column: f.name, table: w.table },
        );
    }
    const added = Object.entries(w.schema)
      .filter(([n]) => !byName.has(n))
      .map(([n, type]) => file?.fields.find((f) => f.name === n) ?? sparkField(n, type));
    const actions: Action[] = [];
    if (!snapshot) {
      actions.push({ protocol: { minReaderVersion: 1, minWriterVersion: 2 } });
      actions.push({
        metaData: {
          id: randomUUID(),
          name: null,
          description: null,
          format: { provider: "parquet", options: {} },
          schemaString: schemaString(added),
          partitionColumns: [],
          createdTime: Date.now(),
          configuration: {},
        },
      });
    } else if (added.length > 0) {
      actions.push({
        metaData: { ...snapshot.metadata!, schemaString: schemaString([...fields, ...added]) },
      });
    }
    if (file) actions.push({ add: { ...file.add, tags: { [ORDER_TAG]: formatOrder([version, 0]) } } });
    if (w.idempotency)
      actions.push({
        txn: {
          appId: w.idempotency.key,
          version: txnVersion(w.idempotency.fingerprint),
          lastUpdated: Date.now(),
        },
      });
    return actions.length > 0 ? actions : null;
  }

  /** `COPY`s `select` to a new Parquet file of the table, its columns cast to `fields`; with stats. */
  async #writeDataFile(dir: string, select: string, fields: readonly StructField[]): Promise<WrittenFile> {
    const name = `part-00000-${randomUUID()}-c000.snappy.parquet`;
    const path = join(dir, name);
    await mkdir(dir, { recursive: true });
    const cols = fields.map((f) => {
      const physical = physicalDuckType(f);
      if (!physical)
        throw new MetadataSchemaError(`Column "${f.name}" has a Delta type this backend cannot write`, {
          column: f.name,
        });
      return `CAST(${q(f.name)} AS ${physical}) AS ${q(f.name)}`;
    });
    const source = `SELECT ${cols.join(", ")} FROM (${select})`;
    await this.#run(`COPY (${source}) TO ${s(path)} (FORMAT parquet, COMPRESSION snappy)`);
    const stats = await this.#stats(path, fields);
    const info = await stat(path);
    this.#fileColumns.set(path, new Set(fields.map((f) => f.name)));
    return {
      add: {
        path: encodeURI(name),
        partitionValues: {},
        size: info.size,
        modificationTime: Math.floor(info.mtimeMs),
        dataChange: true,
        stats,
      },
      fields: [...fields],
    };
  }

  /** Delta file statistics: numRecords, and min / max / nullCount of the primitive columns. */
  async #stats(path: string, fields: readonly StructField[]): Promise<string> {
    const select = ["count(*) AS n"];
    const stat = fields.filter((f) => typeof f.type === "string");
    stat.forEach((f, i) => {
      const c = q(f.name);
      select.push(`count(*) - count(${c}) AS nc${i}`);
      if (f.type === "timestamp" || f.type === "timestamp_ntz") {
        const utc = f.type === "timestamp" ? `${c} AT TIME ZONE 'UTC'` : c;
        select.push(`strftime(min(${utc}), '%Y-%m-%dT%H:%M:%S.%fZ') AS mn${i}`);
        select.push(`strftime(max(${utc}), '%Y-%m-%dT%H:%M:%S.%fZ') AS mx${i}`);
      } else if (f.type !== "boolean" && logicalType(f) !== "json") {
        select.push(`min(${c}) AS mn${i}`, `max(${c}) AS mx${i}`);
      }
    });
    const [row] = await this.#all(`SELECT ${select.join(", ")} FROM read_parquet(${s(path)})`);
    const minValues: Record<string, unknown> = {};
    const maxValues: Record<string, unknown> = {};
    const nullCount: Record<string, number> = {};
    stat.forEach((f, i) => {
      nullCount[f.name] = Number(row[`nc${i}`]);
      const type = logicalType(f);
      for (const [key, target] of [
        [`mn${i}`, minValues],
        [`mx${i}`, maxValues],
      ] as const) {
        const v = row[key];
        if (v === null || v === undefined) continue;
        if (type === "integer" || type === "float") {
          const n = Number(v);
          if (Number.isFinite(n) && Number.isSafeInteger(Math.trunc(n))) target[f.name] = n;
        } else if (type === "string") {
          // Long strings would need truncation (and a max bound above the truncated value): none.
          if (String(v).length <= 32) target[f.name] = v;
        } else target[f.name] = v;
      }
    });
    return JSON.stringify({ numRecords: Number(row.n), minValues, maxValues, nullCount });
  }

  async appendTombstones(query: ReadQuery, values: TombstoneValues): Promise<number> {
    this.#assertWritable();
    const found = await this.#snapshot(query.table);
    if (!found) return 0;
    const { log, snapshot } = found;
    await this.#expose([query.table]);
    const fields = fieldsOf(snapshot.metadata);
    const select = fields.map((f) =>
      f.name in values ? `${literal(values[f.name])} AS ${q(f.name)}` : q(f.name),
    );
    const file = await this.#writeDataFile(
      log.tableDir,
      `SELECT ${select.join(", ")} FROM (${compileRead({ ...query, columns: null })})`,
      fields,
    );
    const rows = JSON.parse(file.add.stats!).numRecords as number;
    if (rows === 0) return 0;
    await log.commit(
      async (current) => {
        if (!current) return null;
        const version = current.version + 1;
        return [{ add: { ...file.add, tags: { [ORDER_TAG]: formatOrder([version, 0]) } } }];
      },
      { operation: "WRITE", operationParameters: { mode: "Append" } },
    );
    return rows;
  }

  async deleteRows(table: string, where: Expr | null): Promise<number> {
    this.#assertWritable();
    const found = await this.#snapshot(table);
    if (!found) return 0;
    let deleted = 0;
    await found.log.commit(
      async (snapshot) => {
        deleted = 0;
        if (!snapshot?.metadata) return null;
        if (snapshot.metadata.configuration?.["delta.appendOnly"] === "true")
          throw new DeltaProtocolError(`Delta table "${table}" is append-only (delta.appendOnly)`, { table });
        const dir = found.log.tableDir;
        const live = snapshot.liveFiles();
        if (live.length === 0) return null;
        const now = Date.now();
        const remove = (i: number): Action => ({
          remove: {
            path: live[i].add.path,
            deletionTimestamp: now,
            dataChange: true,
            extendedFileMetadata: true,
            partitionValues: live[i].add.partitionValues ?? {},
            size: live[i].add.size,
          },
        });
        if (!where) {
          for (const f of live) deleted += fileRows(f.add) ?? 0;
          if (live.some((f) => fileRows(f.add) === null)) {
            const { sql } = await this.#projection(dir, snapshot);
            deleted = Number((await this.#all(`SELECT count(*) AS n FROM (${sql})`))[0].n);
          }
          return live.map((_, i) => remove(i));
        }
        const { sql } = await this.#projection(dir, snapshot, true);
        const cond = `coalesce(${compileExpr(where, { quoteIdent: q })}, false)`;
        const hits = await this.#all(
          `SELECT __file AS f, count(*) FILTER (WHERE ${cond}) AS hit, count(*) AS n FROM (${sql}) GROUP BY __file HAVING hit > 0`,
        );
        const actions: Action[] = [];
        const fields = fieldsOf(snapshot.metadata);
        for (const h of hits) {
          const i = Number(h.f);
          deleted += Number(h.hit);
          actions.push(remove(i));
          if (Number(h.hit) === Number(h.n)) continue;
          // The file's other rows are rewritten, in their order, keeping their place in write order.
          const kept = await this.#writeDataFile(
            dir,
            `SELECT * EXCLUDE (rowid, __file, __row) FROM (${sql}) WHERE __file = ${i} AND NOT ${cond} ORDER BY __row`,
            fields,
          );
          const order: FileOrder = live[i].order;
          actions.push({ add: { ...kept.add, tags: { [ORDER_TAG]: formatOrder(order) } } });
        }
        return actions.length > 0 ? actions : null;
      },
      { operation: "DELETE", operationParameters: { predicate: where ? "metaxy filter" : null } },
    );
    return deleted;
  }

  async dropTable(table: string): Promise<void> {
    this.#assertWritable();
    const dir = await this.#dirOf(table);
    this.#dirs.delete(table);
    this.#logs.get(table)?.forget();
    this.#logs.delete(table);
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  #assertWritable(): void {
    if (this.#readOnly) throw new MetadataStoreError(`Delta backend ${this.display()} is open read-only`);
  }

  // ---- resolve-update, increments, stages ----

  async resolveUpdate(plan: ResolveUpdatePlan): Promise<IncrementSource> {
    const tables = [plan.current.table];
    if (plan.failures) tables.push(plan.failures.table);
    if (plan.expected.kind === "upstreams")
      for (const u of plan.expected.upstreams) if (!u.inline) tables.push(u.read.table);
    await this.#expose(tables);
    const session = await this.#session();
    let increment: IncrementSource;
    try {
      increment = await session.resolveUpdate(plan);
    } catch (e) {
      await session.close();
      throw e;
    }
    this.#sessions.add(session);
    return {
      counts: () => increment.counts(),
      rows: (kind, batchSize) =>
        kind === "orphaned" ? withoutRowid(increment.rows(kind, batchSize)) : increment.rows(kind, batchSize),
      progress: () => increment.progress(),
      stage: (stageId) => this.#stage(increment, stageId),
      dispose: async () => {
        await increment.dispose();
        if (this.#sessions.delete(session)) await session.close();
      },
    };
  }

  #stageDir(stageId: string): string {
    return join(this.#root, STAGES_DIR, Buffer.from(stageId, "utf8").toString("hex"));
  }

  /** Runs `fn` alone among this backend's stage operations (stage tables are found by name). */
  #stageExclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#stageLock.then(fn);
    this.#stageLock = next.catch(() => undefined);
    return next;
  }

  async #stageRelations(): Promise<Set<string>> {
    const rows = await this.#all(
      "SELECT table_name AS n FROM information_schema.tables WHERE table_name LIKE 'metaxy\\_stage\\_\\_%' ESCAPE '\\'",
    );
    return new Set(rows.map((r) => String(r.n)));
  }

  /**
   * Stages through the DuckDB session (its two stage tables), then persists them as Parquet
   * under `<root>/_metaxy/stages/<hex id>/` so another process (a Temporal activity) can open
   * the stage; in this process the stage is then a view of those files.
   */
  #stage(increment: IncrementSource, stageId: string): Promise<StagedIncrementSource> {
    return this.#stageExclusive(async () => {
      await this.#dropStageViews(stageId);
      const before = await this.#stageRelations();
      await increment.stage(stageId);
      const created = [...(await this.#stageRelations())].filter((n) => !before.has(n));
      if (created.length !== 2)
        throw new MetadataStoreError(`Staging "${stageId}" did not create its two tables`, { stageId });
      const names = created.sort((a, b) => a.length - b.length) as [string, string];
      if (this.#readOnly) {
        this.#stages.set(stageId, { names, persisted: false });
        return this.#openStage(stageId);
      }
      const dir = this.#stageDir(stageId);
      const tmp = `${dir}.${randomUUID()}.tmp`;
      await mkdir(tmp, { recursive: true });
      for (const [i, n] of names.entries())
        await this.#run(`COPY ${q(n)} TO ${s(join(tmp, `${i}.parquet`))} (FORMAT parquet)`);
      await writeFile(join(tmp, "stage.json"), JSON.stringify({ stageId, tables: names }));
      const old = `${dir}.${randomUUID()}.old`;
      await rename(dir, old).catch(() => undefined);
      await rename(tmp, dir);
      await rm(old, { recursive: true, force: true });
      for (const n of names) await this.#run(`DROP TABLE IF EXISTS ${q(n)}`);
      return this.#openStage(stageId);
    });
  }

  async #dropStageViews(stageId: string): Promise<void> {
    const known = this.#stages.get(stageId);
    if (!known) return;
    this.#stages.delete(stageId);
    for (const n of known.names)
      await this.#run(known.persisted ? `DROP VIEW IF EXISTS ${q(n)}` : `DROP TABLE IF EXISTS ${q(n)}`);
  }

  openStage(stageId: string): Promise<StagedIncrementSource> {
    return this.#stageExclusive(() => this.#openStage(stageId));
  }

  async #openStage(stageId: string): Promise<StagedIncrementSource> {
    if (!this.#stages.has(stageId)) {
      const dir = this.#stageDir(stageId);
      let manifest: { tables: [string, string] } | undefined;
      try {
        manifest = JSON.parse(await readFile(join(dir, "stage.json"), "utf8"));
      } catch {
        manifest = undefined;
      }
      if (manifest) {
        for (const [i, n] of manifest.tables.entries())
          await this.#run(
            `CREATE OR REPLACE VIEW ${q(n)} AS SELECT * FROM read_parquet(${s(join(dir, `${i}.parquet`))})`,
          );
        this.#stages.set(stageId, { names: manifest.tables, persisted: true });
      }
    }
    const session = await this.#session();
    let staged: StagedIncrementSource;
    try {
      staged = await session.openStage(stageId);
    } catch (e) {
      await session.close();
      throw e;
    }
    this.#sessions.add(session);
    return {
      stageId,
      counts: () => staged.counts(),
      page: (offset, limit) => staged.page(offset, limit),
      orphans: (batchSize) => withoutRowid(staged.orphans(batchSize)),
      drop: () =>
        this.#stageExclusive(async () => {
          await this.#dropStageViews(stageId);
          if (!this.#readOnly) await rm(this.#stageDir(stageId), { recursive: true, force: true });
          if (this.#sessions.delete(session)) await session.close();
        }),
    };
  }

  // ---- checkpoints (Parquet through DuckDB) ----

  async #readCheckpoint(path: string): Promise<Action[]> {
    const names = Object.keys(CHECKPOINT_COLUMNS);
    const rows = await this.#all(
      `SELECT to_json(COLUMNS(c -> c IN (${names.map(s).join(", ")}))) FROM read_parquet(${s(path)})`,
    );
    const actions: Action[] = [];
    for (const r of rows)
      for (const n of names) {
        const v = r[n];
        if (v !== null && v !== undefined) actions.push({ [n]: JSON.parse(String(v)) } as Action);
      }
    return actions;
  }

  async #writeCheckpoint(path: string, actions: readonly Action[]): Promise<void> {
    const json = `${path}.${randomUUID()}.json`;
    try {
      await writeFile(json, actions.map((a) => JSON.stringify(checkpointRow(a))).join("\n") + "\n");
      const columns = Object.entries(CHECKPOINT_COLUMNS)
        .map(([n, t]) => `${s(n)}: ${s(t)}`)
        .join(", ");
      await this.#run(
        `COPY (SELECT * FROM read_json(${s(json)}, format = 'newline_delimited', columns = {${columns}})) TO ${s(path)} (FORMAT parquet)`,
      );
    } finally {
      await unlink(json).catch(() => undefined);
    }
  }
}

/** Only the fields the checkpoint schema has (a foreign log may carry more). */
function checkpointRow(a: Action): Record<string, unknown> {
  if ("add" in a) {
    const { path, partitionValues, size, modificationTime, dataChange, stats, tags } = a.add;
    return {
      add: { path, partitionValues: partitionValues ?? {}, size, modificationTime, dataChange, stats, tags },
    };
  }
  if ("remove" in a) {
    const { path, deletionTimestamp, dataChange, extendedFileMetadata, partitionValues, size } = a.remove;
    return { remove: { path, deletionTimestamp, dataChange, extendedFileMetadata, partitionValues, size } };
  }
  if ("txn" in a)
    return { txn: { appId: a.txn.appId, version: a.txn.version, lastUpdated: a.txn.lastUpdated } };
  return a as Record<string, unknown>;
}

/** Rows of a file from its stats, when it has them. */
function fileRows(add: AddFile): number | null {
  try {
    const n = JSON.parse(add.stats ?? "null")?.numRecords;
    return typeof n === "number" ? n : null;
  } catch {
    return null;
  }
}

/**
 * Delta's idempotent writes: a `txn` action with the idempotency key as `appId` and, as
 * `version`, the write's fingerprint folded into 52 bits. The same key with the same version is a
 * replay (nothing to commit); with another version, a conflict.
 */
function txnVersion(fingerprint: string): number {
  return Number.parseInt(fingerprint.slice(0, 13), 16);
}

function replayed(snapshot: Snapshot | null, w: TableWrite): boolean {
  const { key, fingerprint } = w.idempotency!;
  const txn = snapshot?.txns.get(key);
  if (!txn) return false;
  if (txn.version === txnVersion(fingerprint)) return true;
  throw new IdempotencyConflictError(
    `Idempotency key "${key}" was already used on feature "${w.feature}" for different rows`,
    { feature: w.feature, idempotencyKey: key },
  );
}

function literal(value: unknown): string {
  if (value === undefined || value === null) return "NULL";
  if (value instanceof Date) return `make_timestamptz(${BigInt(value.getTime()) * 1000n})`;
  return typeof value === "string" ? s(value) : sqlLiteral(value as number | boolean | bigint);
}

/** Orphans are stored rows: the views' `rowid` is not one of their columns. */
async function* withoutRowid(batches: AsyncIterable<Row[]>): AsyncGenerator<Row[]> {
  for await (const batch of batches) {
    for (const r of batch) delete r.rowid;
    yield batch;
  }
}

/**
 * The top-level column names of each file in `parquet_schema` rows: per file its schema tree in
 * depth-first order, the root first (`num_children` = its column count). A file whose rows do not
 * form one complete tree is left out (its columns are then read on their own).
 */
function topLevelColumns(rows: readonly Record<string, unknown>[]): Map<string, Set<string>> {
  const byFile = new Map<string, Array<{ name: string; children: number }>>();
  for (const r of rows) {
    const file = String(r.file_name);
    let nodes = byFile.get(file);
    if (!nodes) byFile.set(file, (nodes = []));
    nodes.push({ name: String(r.name), children: r.num_children == null ? 0 : Number(r.num_children) });
  }
  const out = new Map<string, Set<string>>();
  for (const [file, nodes] of byFile) {
    // Index just past the subtree starting at `i`, or -1 if the rows end inside it.
    const skip = (i: number): number => {
      if (i >= nodes.length) return -1;
      let j = i + 1;
      for (let k = 0; k < nodes[i].children && j !== -1; k++) j = skip(j);
      return j;
    };
    const columns = new Set<string>();
    let i = 1;
    for (let k = 0; k < nodes[0].children && i !== -1; k++) {
      if (i < nodes.length) columns.add(nodes[i].name);
      i = skip(i);
    }
    if (i === nodes.length) out.set(file, columns);
  }
  return out;
}

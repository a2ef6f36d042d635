import { createHash, randomUUID } from "node:crypto";
import type { BigQuery, Job, Query } from "@google-cloud/bigquery";
import {
  type EngineColumns,
  type RowBatches,
  type SqlDriver,
  type SqlParams,
  idempotencyConflict,
  layoutAfterWrite,
  scratchColumns,
} from "@metaxy/backend-sql";
import {
  type AccessMode,
  type ColumnType,
  EngineError,
  MetadataStoreError,
  type Row,
  StoreClosedError,
} from "@metaxy/core";
import type { TableWrite } from "@metaxy/core/backend";
import { bigqueryDialect, q } from "./bigquery-dialect.js";
import {
  type BigQueryField,
  type StagedColumn,
  integerValue,
  rowDecoder,
  stagedColumns,
  stagingNdjson,
  typeText,
} from "./bigquery-values.js";

/** Idempotency keys, scoped by table: a key names one write to one feature. */
export const IDEMPOTENCY_TABLE = "metaxy_system__idempotency";
/** Scratch relations start with this; `listTables` never shows them. */
export const SCRATCH_PREFIX = "metaxy_scratch__";

export interface BigQueryDriverOptions {
  /** The client, or how to make it when the store opens. */
  readonly client: BigQuery | (() => BigQuery | Promise<BigQuery>);
  readonly dataset: string;
  /** Location of the dataset and of every job (`US`, `EU`, `europe-west4`, ...). */
  readonly location?: string;
}

/** What a dry run of a statement says it would scan (BigQuery bills on-demand queries by it). */
export interface DryRunEstimate {
  readonly bytesProcessed: number;
}

/** How long to wait between polls of a running job. */
const POLL_MS = 100;

/**
 * `SqlDriver` over `@google-cloud/bigquery`. Statements are query jobs with named STRING
 * parameters; every write is one load job (atomic: a load job commits all its rows or none),
 * whose id is derived from the write's idempotency key, so a retried write finds its job done.
 * Feature tables, the key table, stages and scratch tables live in the store's dataset.
 */
export class BigQueryDriver implements SqlDriver {
  readonly dialect = bigqueryDialect;
  #client: BigQuery | undefined;
  readonly #options: BigQueryDriverOptions;
  readonly #layouts = new Map<string, EngineColumns>();
  readonly #scratch = new Set<string>();
  readonly #scratchPrefix = `${SCRATCH_PREFIX}${randomUUID().replaceAll("-", "").slice(0, 12)}_`;
  readonly #inflight = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;
  #open = false;

  constructor(options: BigQueryDriverOptions) {
    this.#options = options;
  }

  get #bq(): BigQuery {
    if (!this.#client || !this.#open) throw new MetadataStoreError(`BigQuery ${this.display()} is not open`);
    return this.#client;
  }

  get #dataset(): string {
    return this.#options.dataset;
  }

  display(): string {
    const project = this.#client?.projectId;
    return `bigquery(${project ? `${project}.` : ""}${this.#dataset})`;
  }

  async open(mode: AccessMode): Promise<void> {
    if (this.#open) return;
    const { client } = this.#options;
    this.#client ??= typeof client === "function" ? await client() : client;
    const dataset = this.#client.dataset(this.#dataset, { location: this.#options.location });
    try {
      const [exists] = await dataset.exists();
      if (!exists) {
        if (mode === "r")
          throw new MetadataStoreError(`BigQuery dataset "${this.#dataset}" does not exist`, {
            dataset: this.#dataset,
          });
        await dataset.create({ location: this.#options.location }).catch(async (e: unknown) => {
          // Another writer may have created it first.
          if (!(await dataset.exists())[0]) throw e;
        });
      }
    } catch (e) {
      if (e instanceof MetadataStoreError) throw e;
      throw new MetadataStoreError(
        `Cannot open BigQuery ${this.display()}: ${(e as Error).message}`,
        { dataset: this.#dataset },
        { cause: e },
      );
    }
    this.#open = true;
  }

  /** Waits for running statements, then drops this driver's scratch tables. */
  async close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      await Promise.allSettled([...this.#inflight]);
      if (!this.#client || !this.#open) return;
      for (const relation of this.#scratch)
        await this.#exec(`DROP TABLE IF EXISTS ${relation}`, {}).catch(() => undefined);
      this.#scratch.clear();
      this.#layouts.clear();
      this.#open = false;
    })();
    return this.#closing;
  }

  /** Tracks `work` so that `close` waits for it. */
  #track<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new StoreClosedError(`BigQuery ${this.display()} is closed`));
    const p = work();
    this.#inflight.add(p);
    const done = () => this.#inflight.delete(p);
    p.then(done, done);
    return p;
  }

  /** A query job over named STRING parameters (see the dialect's `bind`). */
  #queryOptions(sql: string, params: SqlParams, dryRun = false): Query {
    // Only the parameters the statement names (a plan's params may serve several statements).
    const names = Object.keys(params).filter((n) => new RegExp(`@${n}\\b`).test(sql));
    return {
      query: sql,
      useLegacySql: false,
      location: this.#options.location,
      dryRun,
      ...(names.length
        ? {
            params: Object.fromEntries(names.map((n) => [n, String(params[n])])),
            types: Object.fromEntries(names.map((n) => [n, "STRING"])),
          }
        : {}),
    };
  }

  async #createJob(sql: string, params: SqlParams): Promise<Job> {
    try {
      const [job] = await this.#bq.createQueryJob(this.#queryOptions(sql, params));
      return job;
    } catch (e) {
      throw EngineError.wrap(e, { dataset: this.#dataset }, "BigQuery query failed");
    }
  }

  /**
   * The pages of a query's result, each at most `pageSize` rows, decoded by the result's schema.
   * The last element of each page tuple is the response (for DML row counts).
   */
  async *#pages(job: Job, pageSize: number): AsyncGenerator<[Row[], Record<string, unknown>]> {
    let pageToken: string | undefined;
    let decode: ((raw: Record<string, unknown>) => Row) | undefined;
    for (;;) {
      let rows: Record<string, unknown>[];
      let response: Record<string, unknown>;
      try {
        [rows, , response] = (await job.getQueryResults({
          maxResults: pageSize,
          pageToken,
          autoPaginate: false,
          wrapIntegers: { integerTypeCastFunction: integerValue },
          parseJSON: true,
        })) as unknown as [Record<string, unknown>[], unknown, Record<string, unknown>];
      } catch (e) {
        throw EngineError.wrap(e, { dataset: this.#dataset }, "BigQuery query failed");
      }
      if (response.jobComplete === false) {
        await sleep(POLL_MS);
        continue;
      }
      const schema = response.schema as { fields?: BigQueryField[] } | undefined;
      decode ??= rowDecoder(schema?.fields ?? []);
      yield [(rows ?? []).map(decode), response];
      pageToken = response.pageToken as string | undefined;
      if (!pageToken) return;
      if (this.#closing) throw new StoreClosedError("The BigQuery store was closed during a read");
    }
  }

  /** Runs a statement to the end; returns its rows and the number of rows a DML statement changed. */
  #query(sql: string, params: SqlParams): Promise<{ rows: Row[]; changed: number }> {
    return this.#track(() => this.#exec(sql, params));
  }

  async #exec(sql: string, params: SqlParams): Promise<{ rows: Row[]; changed: number }> {
    const job = await this.#createJob(sql, params);
    const rows: Row[] = [];
    let changed = 0;
    for await (const [page, response] of this.#pages(job, 10_000)) {
      rows.push(...page);
      if (response.numDmlAffectedRows !== undefined) changed = Number(response.numDmlAffectedRows);
    }
    return { rows, changed };
  }

  async run(sql: string, params: SqlParams = {}): Promise<number> {
    return (await this.#query(sql, params)).changed;
  }

  async all(sql: string, params: SqlParams = {}): Promise<Row[]> {
    return (await this.#query(sql, params)).rows;
  }

  /** A read in pages of `batchSize` rows (BigQuery keeps the result; each page is one request). */
  async *stream(sql: string, batchSize: number, params: SqlParams = {}): AsyncGenerator<Row[]> {
    const job = await this.#track(() => this.#createJob(sql, params));
    for await (const [page] of this.#pages(job, batchSize)) if (page.length > 0) yield page;
  }

  /** What a dry run says `sql` would scan: the basis of `metaxy plan --cost`. */
  async dryRun(sql: string, params: SqlParams = {}): Promise<DryRunEstimate> {
    return this.#track(async () => {
      try {
        const [job] = await this.#bq.createQueryJob(this.#queryOptions(sql, params, true));
        const stats = job.metadata?.statistics as { totalBytesProcessed?: string } | undefined;
        return { bytesProcessed: Number(stats?.totalBytesProcessed ?? 0) };
      } catch (e) {
        throw EngineError.wrap(e, { dataset: this.#dataset }, "BigQuery dry run failed");
      }
    });
  }

  describe(table: string, scratch = false): Promise<EngineColumns | null> {
    const name = scratch ? this.#scratchName(table) : table;
    if (!scratch && this.#layouts.has(table)) return Promise.resolve(this.#layouts.get(table)!);
    return this.#track(() => this.#describe(name, !scratch));
  }

  async #describe(table: string, cache: boolean): Promise<EngineColumns | null> {
    const cached = cache ? this.#layouts.get(table) : undefined;
    if (cached) return cached;
    let metadata: { schema?: { fields?: BigQueryField[] } };
    try {
      [metadata] = await this.#bq.dataset(this.#dataset).table(table).getMetadata();
    } catch (e) {
      if ((e as { code?: number }).code === 404) return null;
      throw EngineError.wrap(
        e,
        { dataset: this.#dataset, table },
        `Cannot describe BigQuery table "${table}"`,
      );
    }
    const columns = (metadata.schema?.fields ?? []).map((f): [string, string] => [f.name, typeText(f)]);
    // Absent tables are not cached: another writer may create them.
    if (cache) this.#layouts.set(table, columns);
    return columns;
  }

  listTables(): Promise<string[]> {
    return this.#track(async () => {
      const [tables] = await this.#bq.dataset(this.#dataset).getTables();
      return tables
        .map((t) => t.id ?? "")
        .filter((n) => n !== "" && !n.startsWith(SCRATCH_PREFIX))
        .sort();
    });
  }

  logicalType(engineType: string): ColumnType {
    if (engineType.startsWith("ARRAY<STRUCT<key STRING, value STRING>>")) return "map";
    switch (engineType) {
      case "STRING":
        return "string";
      case "INT64":
      case "NUMERIC":
      case "BIGNUMERIC":
        return engineType === "INT64" ? "integer" : "float";
      case "FLOAT64":
        return "float";
      case "BOOL":
        return "boolean";
      case "TIMESTAMP":
      case "DATE":
        return "timestamp";
      case "DATETIME":
        return "timestamp_ntz";
      default:
        return "json";
    }
  }

  /** Python Metaxy's layout: a STRUCT of STRING fields, one per feature field. */
  structFields(engineType: string): string[] | null {
    const m = /^STRUCT<(.*)>$/.exec(engineType);
    if (!m) return null;
    return m[1].split(", ").map((part) => part.slice(0, part.lastIndexOf(" ")));
  }

  #columnDef(name: string, type: ColumnType): string {
    return `${q(name)} ${bigqueryDialect.typeName(type)}`;
  }

  /**
   * One load job per write. The table is created (clustered by the feature's id columns) or
   * widened first. With an idempotency key: the key's first fingerprint is recorded in the key
   * table (another fingerprint: IDEMPOTENCY_CONFLICT, before any table changes), and the load
   * job's id is derived from the dataset, table and key: a retry after a crash anywhere finds the
   * job (running: it waits; done: nothing is written again; failed: the next attempt's id).
   */
  write(writes: readonly TableWrite[]): Promise<number[]> {
    return this.#track(async () => {
      // Every write's rows are checked and encoded before any DDL or load: a bad value changes nothing.
      const prepared = [];
      for (const w of writes) {
        const existing = await this.#describe(w.table, true);
        const { added, columns } = layoutAfterWrite(existing, w, (t) => bigqueryDialect.typeName(t));
        const written = columns.filter(([n]) => n in w.schema);
        const staged = stagedColumns(w.table, written, (t) => this.structFields(t));
        prepared.push({ w, existing, added, staged, ndjson: stagingNdjson(staged, w.rows) });
      }
      if (writes.some((w) => w.idempotency)) await this.#ensureKeyTable();
      const seen = new Map<TableWrite, { fingerprint: string; done: boolean }>();
      for (const w of writes)
        if (w.idempotency) {
          const state = await this.#keyState(w);
          if (state && state.fingerprint !== w.idempotency.fingerprint) throw idempotencyConflict(w);
          if (state) seen.set(w, state);
        }
      const counts: number[] = [];
      for (const { w, existing, added, staged, ndjson } of prepared) {
        if (w.idempotency && !(await this.#claim(w, seen.get(w)))) {
          counts.push(0);
          continue;
        }
        await this.#prepareTable(w, existing, added);
        let written = w.rows.length;
        if (w.rows.length > 0)
          written = (await this.#append(this.relation(w.table, false), staged, ndjson, this.#jobIds(w)))
            ? w.rows.length
            : 0;
        if (w.idempotency) await this.#recordKey(w, "done");
        counts.push(written);
      }
      return counts;
    });
  }

  /** Load job ids of a write: attempts of its idempotency key in order, or one random id. */
  *#jobIds(w: TableWrite): Generator<string> {
    if (!w.idempotency) {
      yield `metaxy_${randomUUID()}`;
      return;
    }
    const project = this.#client?.projectId ?? "";
    const base = createHash("sha256")
      .update(JSON.stringify([project, this.#dataset, w.table, w.idempotency.key]))
      .digest("hex")
      .slice(0, 40);
    for (let attempt = 0; ; attempt++) yield `metaxy_${base}_${attempt}`;
  }

  /**
   * Appends staged rows to `relation`: a load job fills a staging table (text only, see
   * `StagedColumn`), then one INSERT ... SELECT — one DML statement, all of its rows or none —
   * runs under the first of `jobIds` that has not failed. A job id that exists and succeeded
   * means a retry of a write already done: nothing is appended (false).
   */
  async #append(
    relation: string,
    columns: readonly StagedColumn[],
    ndjson: string,
    jobIds: Iterable<string>,
  ): Promise<boolean> {
    const staging = await this.#stage(columns, ndjson);
    try {
      const insert = `INSERT INTO ${relation} (${columns.map((c) => q(c.name)).join(", ")}) SELECT ${columns.map((c) => c.select).join(", ")} FROM ${staging} AS s`;
      for (const jobId of jobIds) {
        const created = await this.#startQuery(insert, jobId);
        const status = await this.#finished(this.#bq.job(jobId, { location: this.#options.location }));
        if (!status.errorResult) return created;
        if (created)
          throw new EngineError(`BigQuery insert into ${relation} failed: ${status.errorResult.message}`, {
            dataset: this.#dataset,
            jobId,
          });
      }
      return false;
    } finally {
      await this.#exec(`DROP TABLE IF EXISTS ${staging}`, {}).catch(() => undefined);
      this.#scratch.delete(staging);
    }
  }

  /** A scratch staging table of `columns` holding `ndjson`, by one load job. */
  async #stage(columns: readonly StagedColumn[], ndjson: string): Promise<string> {
    const name = this.#scratchName(`load_${randomUUID().replaceAll("-", "").slice(0, 12)}`);
    const relation = this.relation(name, false);
    this.#scratch.add(relation);
    // The load job creates the staging table from this schema: one job, not two.
    const fields = columns.flatMap((c) =>
      c.staging.map(([n, t]) =>
        t === "ARRAY<STRING>" ? { name: n, type: "STRING", mode: "REPEATED" } : { name: n, type: t },
      ),
    );
    await new Promise<void>((resolve, reject) => {
      const stream = this.#bq
        .dataset(this.#dataset)
        .table(name)
        .createWriteStream_({
          sourceFormat: "NEWLINE_DELIMITED_JSON",
          schema: { fields: fields.length ? fields : [{ name: "__empty", type: "STRING" }] },
          createDisposition: "CREATE_IF_NEEDED",
          writeDisposition: "WRITE_APPEND",
          location: this.#options.location,
        } as Parameters<ReturnType<ReturnType<BigQuery["dataset"]>["table"]>["createWriteStream_"]>[0]);
      stream.on("job", (job: Job) => {
        this.#finished(job).then((status) => {
          if (status.errorResult)
            reject(
              new EngineError(`BigQuery load job failed: ${status.errorResult.message}`, {
                dataset: this.#dataset,
              }),
            );
          else resolve();
        }, reject);
      });
      stream.on("error", (e: unknown) =>
        reject(EngineError.wrap(e, { dataset: this.#dataset }, "BigQuery load failed")),
      );
      stream.end(ndjson);
    });
    return relation;
  }

  /** Starts a query job with a chosen id; false when a job with that id already exists (a retry). */
  async #startQuery(sql: string, jobId: string): Promise<boolean> {
    try {
      await this.#bq.createQueryJob({ ...this.#queryOptions(sql, {}), jobId });
      return true;
    } catch (e) {
      const { code, message } = e as { code?: number; message?: string };
      // Real BigQuery answers 409 for a known job id; the emulator 500 "already created".
      if (code === 409 || /already (created|exists)/i.test(message ?? "")) return false;
      throw EngineError.wrap(e, { dataset: this.#dataset, jobId }, "BigQuery query failed");
    }
  }

  /** Polls a job until it is done; its final status. */
  async #finished(job: Job): Promise<{ errorResult?: { message?: string } }> {
    for (;;) {
      const [metadata] = await job.getMetadata();
      const status = metadata.status as { state?: string; errorResult?: { message?: string } };
      if (status?.state === "DONE") return status;
      await sleep(POLL_MS);
    }
  }

  /** Creates `w.table` (clustered by its id columns) or adds its new columns. */
  async #prepareTable(
    w: TableWrite,
    existing: EngineColumns | null,
    added: ReadonlyArray<[string, ColumnType]>,
  ): Promise<void> {
    if (added.length === 0 && existing) return;
    const relation = this.relation(w.table, false);
    if (!existing) {
      // BigQuery clusters by at most four columns, none of them arrays.
      const ids = (w.idColumns ?? []).filter((c) => c in w.schema && w.schema[c] !== "map").slice(0, 4);
      const cluster = ids.length ? ` CLUSTER BY ${ids.map(q).join(", ")}` : "";
      await this.#query(
        `CREATE TABLE IF NOT EXISTS ${relation} (${added.map(([n, t]) => this.#columnDef(n, t)).join(", ")})${cluster}`,
        {},
      );
    }
    // Also after CREATE ... IF NOT EXISTS: another writer may have created the table first.
    const missing = await this.#missingColumns(w);
    if (missing.length > 0)
      await this.#query(
        `ALTER TABLE ${relation} ${missing.map(([n, t]) => `ADD COLUMN IF NOT EXISTS ${this.#columnDef(n, t)}`).join(", ")}`,
        {},
      );
    this.forget(w.table);
  }

  async #missingColumns(w: TableWrite): Promise<Array<[string, ColumnType]>> {
    this.forget(w.table);
    const have = new Set((await this.#describe(w.table, false))?.map(([n]) => n));
    return Object.entries(w.schema).filter(([n]) => !have.has(n));
  }

  /** The first claim of the write's key: its fingerprint and whether its rows are in. */
  async #keyState(w: TableWrite): Promise<{ fingerprint: string; done: boolean } | undefined> {
    const { rows } = await this.#query(
      `SELECT fingerprint, MAX(CASE WHEN state = 'done' THEN 1 ELSE 0 END) AS done FROM ${this.relation(IDEMPOTENCY_TABLE, false)} WHERE table_name = @t AND idempotency_key = @k GROUP BY fingerprint ORDER BY MIN(written_at), fingerprint LIMIT 1`,
      { t: w.table, k: w.idempotency!.key },
    );
    const [row] = rows;
    return row && { fingerprint: row.fingerprint as string, done: Number(row.done) === 1 };
  }

  async #ensureKeyTable(): Promise<void> {
    if (this.#layouts.has(IDEMPOTENCY_TABLE)) return;
    await this.#query(
      `CREATE TABLE IF NOT EXISTS ${this.relation(IDEMPOTENCY_TABLE, false)} (table_name STRING, idempotency_key STRING, fingerprint STRING, state STRING, row_count INT64, written_at TIMESTAMP) CLUSTER BY table_name, idempotency_key`,
      {},
    );
    await this.#describe(IDEMPOTENCY_TABLE, true);
  }

  /** True when this write is to be loaded, false for a finished replay; IDEMPOTENCY_CONFLICT for another fingerprint. */
  async #claim(w: TableWrite, known: { fingerprint: string; done: boolean } | undefined): Promise<boolean> {
    let seen = known;
    if (!seen) {
      await this.#recordKey(w, "claimed");
      seen = await this.#keyState(w);
    }
    if (seen?.fingerprint !== w.idempotency!.fingerprint) throw idempotencyConflict(w);
    return !seen.done;
  }

  async #recordKey(w: TableWrite, state: "claimed" | "done"): Promise<void> {
    const { key, fingerprint } = w.idempotency!;
    await this.#query(
      `INSERT INTO ${this.relation(IDEMPOTENCY_TABLE, false)} (table_name, idempotency_key, fingerprint, state, row_count, written_at) VALUES (@t, @k, @f, @s, CAST(@n AS INT64), CURRENT_TIMESTAMP())`,
      { t: w.table, k: key, f: fingerprint, s: state, n: String(w.rows.length) },
    );
  }

  /** One DML statement: atomic, and its count is the engine's. */
  async insertSelect(
    table: string,
    columns: readonly string[],
    select: string,
    params: SqlParams,
  ): Promise<number> {
    const list = columns.map(q).join(", ");
    return this.run(`INSERT INTO ${this.relation(table, false)} (${list}) ${select}`, params);
  }

  async deleteWhere(table: string, where: string | null, params: SqlParams): Promise<number> {
    return this.run(`DELETE FROM ${this.relation(table, false)} WHERE ${where ?? "true"}`, params);
  }

  #scratchName(name: string): string {
    return `${this.#scratchPrefix}${name}`;
  }

  /** `dataset.table`, quoted as one path (BigQuery needs qualified names in every statement). */
  relation(name: string, scratch: boolean): string {
    const table = scratch ? this.#scratchName(name) : name;
    const relation = q(`${this.#dataset}.${table}`);
    if (scratch) this.#scratch.add(relation);
    return relation;
  }

  /** Scratch and stage tables alike are tables of the dataset; scratch ones are dropped at close. */
  async createTableAs(relation: string, select: string, params: SqlParams, _scratch: boolean): Promise<void> {
    await this.#query(`CREATE OR REPLACE TABLE ${relation} AS ${select}`, params);
  }

  /** A scratch table with `schema`, filled batch by batch through staging tables. */
  loadScratch(
    relation: string,
    schema: Readonly<Record<string, ColumnType>>,
    batches: RowBatches,
  ): Promise<void> {
    const cols = scratchColumns(schema);
    const staged = stagedColumns(
      relation,
      cols.map(([n, t]): [string, string] => [n, bigqueryDialect.typeName(t)]),
      () => null,
    );
    return this.#track(async () => {
      await this.#exec(
        `CREATE OR REPLACE TABLE ${relation} (${cols.map(([n, t]) => this.#columnDef(n, t)).join(", ")})`,
        {},
      );
      for await (const rows of batches)
        if (rows.length > 0)
          await this.#append(relation, staged, stagingNdjson(staged, rows), [`metaxy_${randomUUID()}`]);
    });
  }

  async dropTable(relation: string): Promise<void> {
    await this.#query(`DROP TABLE IF EXISTS ${relation}`, {});
    this.#scratch.delete(relation);
  }

  forget(table: string): void {
    this.#layouts.delete(table);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

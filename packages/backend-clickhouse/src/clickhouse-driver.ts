import { randomUUID } from "node:crypto";
import {
  type EngineColumns,
  type RowBatches,
  type SqlDriver,
  type SqlParams,
  idempotencyConflict,
  layoutAfterWrite,
  scratchColumns,
} from "@metaxy/backend-sql";
import type { ClickHouseClient, ClickHouseSettings } from "@clickhouse/client";
import {
  type AccessMode,
  type ColumnType,
  InvalidConfigError,
  MetadataStoreError,
  type Row,
  StoreClosedError,
} from "@metaxy/core";
import type { TableWrite } from "@metaxy/core/backend";
import { clickhouseDialect, q, timestampText } from "./clickhouse-dialect.js";
import { baseType, decoderFor, encodeRows } from "./clickhouse-values.js";

/** Idempotency keys, scoped by table: a key names one write to one feature. */
export const IDEMPOTENCY_TABLE = "metaxy_system__idempotency";
/** Scratch relations (Memory tables) start with this; `listTables` never shows them. */
export const SCRATCH_PREFIX = "metaxy_scratch__";
/** Blocks whose insert tokens a table remembers (retries older than that are caught by the key table). */
export const DEDUPLICATION_WINDOW = 10_000;
/** JSON columns are Strings carrying this comment, so that `describe` can tell them from strings. */
const JSON_COMMENT = "metaxy:json";

/**
 * Settings every statement carries: the client may be the caller's, with other defaults, and
 * `chdb/connection` runs per-request settings as `SET` on its session, so they stay set for later
 * statements. So every statement states the deduplication settings too (off, no token).
 */
const BASE_SETTINGS: ClickHouseSettings = {
  join_use_nulls: 1,
  output_format_json_quote_64bit_integers: 1,
  // Standard SQL: a column name in WHERE means the column, not a SELECT alias of the same name.
  prefer_column_name_to_alias: 1,
  mutations_sync: "2",
  // ClickHouse 26 decides deduplication by `deduplicate_insert` (it overrides `insert_deduplicate`).
  deduplicate_insert: "disable",
  deduplicate_insert_select: "disable",
  insert_deduplicate: 0,
  insert_deduplication_token: "",
} as ClickHouseSettings;

/**
 * Settings of every insert: a token turns deduplication on (a second insert with it is dropped),
 * and one insert is one block (one part), so a write lands whole or not at all.
 */
function insertSettings(token: string | null): ClickHouseSettings {
  return {
    ...BASE_SETTINGS,
    ...(token === null
      ? {}
      : { deduplicate_insert: "enable", insert_deduplicate: 1, insert_deduplication_token: token }),
    input_format_parallel_parsing: 0,
    max_insert_block_size: "1000000000",
    min_insert_block_size_rows: "0",
    min_insert_block_size_bytes: "0",
  } as ClickHouseSettings;
}

/** One native chunk of a `chdb` streaming result (`StreamChunk` of chdb 3.4). */
export interface ChdbStreamChunk {
  readonly numRows: number;
  text(): string;
}

/** A `chdb` streaming result: chunks fetched one at a time, released on `cancel` or when done. */
export interface ChdbQueryStream extends AsyncIterable<ChdbStreamChunk> {
  readonly closed: boolean;
  cancel(): void;
}

/** What the driver uses of `chdb/connection`'s `.chdb` extension: a statement and a real streaming query. */
export interface ChdbStreams {
  queryAsync(sql: string): Promise<unknown>;
  queryStream(sql: string, options?: { format?: string }): ChdbQueryStream;
}

/**
 * A client over `chdb/connection`, and a second connection (its own session on the same engine)
 * for streamed reads: a statement on a session ends the stream open on it, and the caller writes
 * between batches. Memory tables and MergeTree parts are the engine's, so both sessions see them.
 */
export interface EmbeddedClient {
  readonly client: ClickHouseClient;
  readonly streams: { readonly chdb: ChdbStreams; close(): Promise<void> };
}

export interface ClickHouseDriverOptions {
  /**
   * The client, or how to make it when the store opens. An embedded client comes with its
   * connection's `chdb` extension: reads then stream chunk by chunk (the client's own path
   * through `chdb/connection` materialises every result first).
   */
  readonly client: ClickHouseClient | (() => Promise<ClickHouseClient | EmbeddedClient>);
  readonly database: string;
  /** Whether `close` closes the client (false for a client the caller injected). */
  readonly ownsClient: boolean;
  /** For messages: `http://host:8123`, `embedded:/data/store`. */
  readonly where: string;
}

/**
 * `SqlDriver` over the official `@clickhouse/client`: the same code whether the client speaks
 * HTTP to a server or runs the in-process engine of `chdb/connection`. Statements of one driver
 * run one at a time (an embedded session keeps per-statement settings); other drivers, sessions
 * and processes write concurrently, each write one atomic insert.
 */
export class ClickHouseDriver implements SqlDriver {
  readonly dialect = clickhouseDialect;
  #connected: ClickHouseClient | undefined;
  #streams: EmbeddedClient["streams"] | undefined;
  /** chdb allows one active stream per session; a second concurrent read takes the client's path. */
  #chdbStreaming = false;
  readonly #database: string;
  readonly #options: ClickHouseDriverOptions;
  readonly #layouts = new Map<string, EngineColumns>();
  readonly #scratch = new Set<string>();
  readonly #scratchPrefix = `${SCRATCH_PREFIX}${randomUUID().replaceAll("-", "").slice(0, 12)}_`;
  #queue: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;
  #open = false;
  #readOnly = false;

  constructor(options: ClickHouseDriverOptions) {
    this.#options = options;
    this.#database = options.database;
  }

  get #client(): ClickHouseClient {
    if (!this.#connected) throw new MetadataStoreError(`ClickHouse ${this.display()} is not open`);
    return this.#connected;
  }

  display(): string {
    return `clickhouse(${this.#options.where}/${this.#database})`;
  }

  async open(mode: AccessMode): Promise<void> {
    if (this.#open) return;
    this.#readOnly = mode === "r";
    const { client } = this.#options;
    if (!this.#connected) {
      const made = typeof client === "function" ? await client() : client;
      if ("streams" in made && "client" in made) {
        this.#connected = made.client;
        this.#streams = made.streams;
      } else this.#connected = made as ClickHouseClient;
    }
    try {
      if (!this.#readOnly)
        await this.#client.command({
          query: `CREATE DATABASE IF NOT EXISTS ${q(this.#database)}`,
          clickhouse_settings: BASE_SETTINGS,
        });
      // An embedded session keeps its current database; over HTTP the client's `database` decides.
      await this.#client.command({ query: `USE ${q(this.#database)}`, clickhouse_settings: BASE_SETTINGS });
      const [[current]] = await this.#rows("SELECT currentDatabase()", {});
      if (this.#streams) {
        const settings = Object.entries(BASE_SETTINGS).map(
          ([k, v]) => `${k} = ${typeof v === "string" ? clickhouseDialect.string(v) : String(v)}`,
        );
        await this.#streams.chdb.queryAsync(`USE ${q(this.#database)}`);
        await this.#streams.chdb.queryAsync(`SET ${settings.join(", ")}`);
      }
      if (current !== this.#database)
        throw new InvalidConfigError(
          `The ClickHouse client's database is "${current}", not "${this.#database}": create the client with \`database: ${JSON.stringify(this.#database)}\``,
          { database: this.#database },
        );
    } catch (e) {
      if (this.#options.ownsClient) await this.#connected.close().catch(() => undefined);
      this.#connected = undefined;
      if (e instanceof InvalidConfigError) throw e;
      throw new MetadataStoreError(
        `Cannot open ClickHouse ${this.display()}: ${(e as Error).message}`,
        {
          database: this.#database,
        },
        { cause: e },
      );
    }
    this.#open = true;
  }

  /** Waits for queued statements, drops this driver's scratch relations, closes an owned client. */
  async close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      await this.#queue;
      if (!this.#connected) return;
      for (const relation of this.#scratch)
        await this.#client.command({ query: `DROP TABLE IF EXISTS ${relation}` }).catch(() => undefined);
      this.#scratch.clear();
      this.#layouts.clear();
      this.#open = false;
      if (this.#options.ownsClient) {
        await this.#connected?.close();
        await this.#streams?.close();
      }
      this.#connected = undefined;
      this.#streams = undefined;
    })();
    return this.#closing;
  }

  /** Runs `fn` after every statement queued before it. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new StoreClosedError(`ClickHouse ${this.display()} is closed`));
    if (!this.#open)
      return Promise.reject(new MetadataStoreError(`ClickHouse ${this.display()} is not open`));
    const next = this.#queue.then(fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  #command(sql: string, params: SqlParams, settings: ClickHouseSettings = BASE_SETTINGS) {
    return this.#client.command({ query: sql, query_params: params, clickhouse_settings: settings });
  }

  /** Rows as arrays (JSONCompact), decoded by their column types. */
  async #rows(sql: string, params: SqlParams): Promise<unknown[][]> {
    const rs = await this.#client.query({
      query: sql,
      query_params: params,
      format: "JSONCompactEachRowWithNamesAndTypes",
      clickhouse_settings: BASE_SETTINGS,
    });
    const [, types = [], ...rows] = (await rs.json()) as unknown[][];
    const decoders = (types as string[]).map(decoderFor);
    for (const r of rows) for (let i = 0; i < decoders.length; i++) r[i] = decoders[i](r[i]);
    return rows;
  }

  run(sql: string, params: SqlParams = {}): Promise<number> {
    return this.#exclusive(async () => {
      await this.#command(sql, params);
      return 0;
    });
  }

  all(sql: string, params: SqlParams = {}): Promise<Row[]> {
    return this.#exclusive(async () => {
      const rs = await this.#client.query({
        query: sql,
        query_params: params,
        format: "JSONCompactEachRowWithNamesAndTypes",
        clickhouse_settings: BASE_SETTINGS,
      });
      const [names = [], types = [], ...rows] = (await rs.json()) as unknown[][];
      return rows.map((r) => toRow(names as string[], (types as string[]).map(decoderFor), r));
    });
  }

  /**
   * A read in batches. The statement queue is held only until the result starts, so the caller
   * may write between batches. Over HTTP: the client's ResultSet stream, memory bounded by the
   * socket's buffers. Embedded: chdb's own stream (below), since `chdb/connection` materialises a
   * result before it hands it over (see the package README).
   */
  async *stream(sql: string, batchSize: number, params: SqlParams = {}): AsyncGenerator<Row[]> {
    if (this.#streams && !this.#chdbStreaming) {
      yield* this.#batched(this.#chdbRows(this.#streams.chdb, sql, params), batchSize);
      return;
    }
    const rs = await this.#exclusive(() =>
      this.#client.query({
        query: sql,
        query_params: params,
        format: "JSONCompactEachRowWithNamesAndTypes",
        clickhouse_settings: BASE_SETTINGS,
      }),
    );
    try {
      yield* this.#batched(clientRows(rs.stream()), batchSize);
    } finally {
      rs.close();
    }
  }

  async *#batched(rows: AsyncIterable<Row>, batchSize: number): AsyncGenerator<Row[]> {
    let batch: Row[] = [];
    for await (const row of rows) {
      batch.push(row);
      if (batch.length >= batchSize) {
        yield batch;
        batch = [];
        if (this.#closing) throw new StoreClosedError("The ClickHouse store was closed during a read");
      }
    }
    if (batch.length > 0) yield batch;
  }

  /**
   * The rows of a read on the embedded engine through chdb's own streaming query, on the driver's
   * stream session: one native block at a time, so memory stays bounded by the block size. That
   * call binds no parameters, so each one is set on the session first (`SET param_p0 = ...`, the
   * value in ClickHouse's escaped text form); the statements' settings were set there at open.
   * Reads see every write queued before them; leaving early cancels the stream, which frees the
   * session's one stream slot.
   */
  async *#chdbRows(chdb: ChdbStreams, sql: string, params: SqlParams): AsyncGenerator<Row> {
    this.#chdbStreaming = true;
    let stream: ChdbQueryStream | undefined;
    try {
      stream = await this.#exclusive(async () => {
        for (const [name, value] of Object.entries(params))
          await chdb.queryAsync(
            `SET param_${name} = ${clickhouseDialect.string(escapedText(String(value)))}`,
          );
        return chdb.queryStream(sql, { format: "JSONCompactEachRowWithNamesAndTypes" });
      });
      for await (const chunk of stream) {
        // Every chunk starts with the names and types lines.
        const lines = chunk.text().split("\n");
        const names = JSON.parse(lines[0]) as string[];
        const decoders = (JSON.parse(lines[1]) as string[]).map(decoderFor);
        for (let i = 2; i < lines.length; i++)
          if (lines[i] !== "") yield toRow(names, decoders, JSON.parse(lines[i]) as unknown[]);
      }
    } finally {
      if (stream && !stream.closed) stream.cancel();
      this.#chdbStreaming = false;
    }
  }

  describe(table: string, scratch = false): Promise<EngineColumns | null> {
    const name = scratch ? this.#scratchName(table) : table;
    if (!scratch && this.#layouts.has(table)) return Promise.resolve(this.#layouts.get(table)!);
    return this.#exclusive(() => this.#describe(name, !scratch));
  }

  async #describe(table: string, cache: boolean): Promise<EngineColumns | null> {
    const cached = cache ? this.#layouts.get(table) : undefined;
    if (cached) return cached;
    const rows = await this.#rows(
      "SELECT name, type, comment FROM system.columns WHERE database = {db:String} AND table = {t:String} ORDER BY position",
      { db: this.#database, t: table },
    );
    if (rows.length === 0) return null;
    const columns: EngineColumns = rows.map(([n, t, c]) => [
      n as string,
      c === JSON_COMMENT ? `${t as string} (json)` : (t as string),
    ]);
    // Absent tables are not cached: another writer may create them.
    if (cache) this.#layouts.set(table, columns);
    return columns;
  }

  async listTables(): Promise<string[]> {
    const rows = await this.#exclusive(() =>
      this.#rows(
        "SELECT name FROM system.tables WHERE database = {db:String} AND NOT startsWith(name, {scratch:String}) AND NOT is_temporary ORDER BY name",
        { db: this.#database, scratch: SCRATCH_PREFIX },
      ),
    );
    return rows.map(([n]) => n as string);
  }

  logicalType(engineType: string): ColumnType {
    if (engineType.endsWith(" (json)")) return "json";
    const t = baseType(engineType);
    if (t === "String" || t.startsWith("FixedString") || t.startsWith("Enum")) return "string";
    if (/^U?Int\d+$/.test(t)) return "integer";
    if (/^(Float|Decimal|BFloat)/.test(t)) return "float";
    if (t === "Bool") return "boolean";
    if (t.startsWith("DateTime") || t === "Date" || t === "Date32") return "timestamp";
    if (t.startsWith("Map(")) return "map";
    return "json";
  }

  /** The engine type of a logical type, as `describe` spells it. */
  #engineType(type: ColumnType): string {
    const name = clickhouseDialect.typeName(type);
    return type === "json" ? `${name} (json)` : name;
  }

  #columnDef(name: string, type: ColumnType): string {
    const comment = type === "json" ? ` COMMENT ${clickhouseDialect.string(JSON_COMMENT)}` : "";
    return `${q(name)} ${clickhouseDialect.typeName(type)}${comment}`;
  }

  /**
   * One insert per write. The table is created (MergeTree sorted by the feature's id columns) or
   * widened first. With an idempotency key: the key is claimed in the key table (an insert whose
   * token names the key, so of two racing claims one lands) and the claim read back (another
   * fingerprint: IDEMPOTENCY_CONFLICT); the rows go in with the key as their deduplication token,
   * then the key is marked done. A retry after a crash anywhere in between leaves one copy: the
   * table drops a second insert with the same token.
   */
  write(writes: readonly TableWrite[]): Promise<number[]> {
    return this.#exclusive(async () => {
      // Every write's rows are checked and encoded before any DDL or insert: a bad value
      // changes nothing. A key already used for other rows is refused before the table changes.
      const prepared = [];
      for (const w of writes) {
        const existing = await this.#describe(w.table, true);
        const { added, columns } = layoutAfterWrite(existing, w, (t) => this.#engineType(t));
        prepared.push({ w, existing, added, values: encodeRows(w.table, columns, w.rows) });
      }
      // Keys used for other rows are refused before any write of the call changes anything.
      if (writes.some((w) => w.idempotency)) await this.#ensureKeyTable();
      for (const w of writes)
        if (w.idempotency) {
          const seen = await this.#keyState(w);
          if (seen && seen.fingerprint !== w.idempotency.fingerprint) throw idempotencyConflict(w);
        }
      const counts: number[] = [];
      for (const { w, existing, added, values } of prepared) {
        if (w.idempotency && !(await this.#claim(w))) {
          counts.push(0);
          continue;
        }
        await this.#prepareTable(w, existing, added);
        if (w.rows.length > 0)
          await this.#client.insert({
            table: q(w.table),
            values,
            format: "JSONEachRow",
            clickhouse_settings: insertSettings(w.idempotency?.key ?? null),
          });
        if (w.idempotency) await this.#recordKey(w, "done");
        counts.push(w.rows.length);
      }
      return counts;
    });
  }

  /** Creates `w.table` (MergeTree sorted by the id columns) or adds its new columns. */
  async #prepareTable(
    w: TableWrite,
    existing: EngineColumns | null,
    added: ReadonlyArray<[string, ColumnType]>,
  ): Promise<void> {
    if (added.length === 0 && existing) return;
    if (!existing) {
      const ids = (w.idColumns ?? []).filter((c) => c in w.schema);
      await this.#command(
        `CREATE TABLE IF NOT EXISTS ${q(w.table)} (${added.map(([n, t]) => this.#columnDef(n, t)).join(", ")}) ENGINE = MergeTree ORDER BY ${ids.length ? `(${ids.map(q).join(", ")})` : "tuple()"} SETTINGS allow_nullable_key = 1, non_replicated_deduplication_window = ${DEDUPLICATION_WINDOW}`,
        {},
      );
    }
    // Also after CREATE ... IF NOT EXISTS: another writer may have created the table first.
    await this.#command(
      `ALTER TABLE ${q(w.table)} ${Object.entries(w.schema)
        .map(([n, t]) => `ADD COLUMN IF NOT EXISTS ${this.#columnDef(n, t)}`)
        .join(", ")}`,
      {},
    );
    this.#layouts.delete(w.table);
  }

  /** The first claim of the write's key: its fingerprint and whether its rows are in. */
  async #keyState(w: TableWrite): Promise<{ fingerprint: string; done: boolean } | undefined> {
    const [row] = await this.#rows(
      `SELECT fingerprint, max(state = 'done') FROM ${q(IDEMPOTENCY_TABLE)} WHERE table_name = {t:String} AND idempotency_key = {k:String} GROUP BY fingerprint ORDER BY min(written_at), fingerprint LIMIT 1`,
      { t: w.table, k: w.idempotency!.key },
    );
    return row && { fingerprint: row[0] as string, done: Number(row[1]) === 1 };
  }

  async #ensureKeyTable(): Promise<void> {
    await this.#command(
      `CREATE TABLE IF NOT EXISTS ${q(IDEMPOTENCY_TABLE)} (table_name String, idempotency_key String, fingerprint String, state String, row_count Int64, written_at DateTime64(6, 'UTC')) ENGINE = MergeTree ORDER BY (table_name, idempotency_key) SETTINGS non_replicated_deduplication_window = ${DEDUPLICATION_WINDOW}`,
      {},
    );
  }

  /** True when this write is to be inserted, false for a finished replay; IDEMPOTENCY_CONFLICT for another fingerprint. */
  async #claim(w: TableWrite): Promise<boolean> {
    let seen = await this.#keyState(w);
    if (!seen) {
      await this.#recordKey(w, "claimed");
      seen = await this.#keyState(w);
    }
    if (seen?.fingerprint !== w.idempotency!.fingerprint) throw idempotencyConflict(w);
    return !seen.done;
  }

  /** One row of the key table; its token makes a second `claimed` (or `done`) of a key a no-op. */
  async #recordKey(w: TableWrite, state: "claimed" | "done"): Promise<void> {
    const { key, fingerprint } = w.idempotency!;
    await this.#client.insert({
      table: q(IDEMPOTENCY_TABLE),
      values: [
        {
          table_name: w.table,
          idempotency_key: key,
          fingerprint,
          state,
          row_count: w.rows.length,
          written_at: timestampText(new Date()),
        },
      ],
      format: "JSONEachRow",
      clickhouse_settings: insertSettings(JSON.stringify([w.table, key, state])),
    });
  }

  /**
   * `select`, with columns that are untyped NULLs (`NULL AS x`: ClickHouse's Nullable(Nothing),
   * which no table can hold) cast to Nullable(String), so that it can fill a table.
   */
  async #storable(select: string, params: SqlParams): Promise<string> {
    const described = await this.#rows(`DESCRIBE TABLE (${select})`, params);
    const untyped = described.filter(([, t]) => String(t).includes("Nothing")).map(([n]) => n as string);
    if (untyped.length === 0) return select;
    const casts = untyped.map((n) => `CAST(${q(n)} AS Nullable(String)) AS ${q(n)}`);
    return `SELECT * REPLACE (${casts.join(", ")}) FROM (${select})`;
  }

  /** Through a scratch copy, so that the count is exact whatever other writers do meanwhile. */
  insertSelect(
    table: string,
    columns: readonly string[],
    select: string,
    params: SqlParams,
  ): Promise<number> {
    return this.#exclusive(async () => {
      const scratch = this.relation(`insert_${randomUUID().slice(0, 8)}`, true);
      try {
        await this.#command(
          `CREATE TABLE ${scratch} ENGINE = Memory AS ${await this.#storable(select, params)}`,
          params,
          insertSettings(null),
        );
        const [[n]] = await this.#rows(`SELECT count() FROM ${scratch}`, {});
        const list = columns.map(q).join(", ");
        if (Number(n) > 0)
          await this.#command(
            `INSERT INTO ${q(table)} (${list}) SELECT ${list} FROM ${scratch}`,
            {},
            insertSettings(null),
          );
        return Number(n);
      } finally {
        await this.#command(`DROP TABLE IF EXISTS ${scratch}`, {});
        this.#scratch.delete(scratch);
      }
    });
  }

  /** A lightweight DELETE (synchronous); returns the rows it matched. */
  deleteWhere(table: string, where: string | null, params: SqlParams): Promise<number> {
    return this.#exclusive(async () => {
      const cond = where ?? "true";
      const [[n]] = await this.#rows(`SELECT count() FROM ${q(table)} WHERE ${cond}`, params);
      if (Number(n) === 0) return 0;
      await this.#command(
        where === null ? `TRUNCATE TABLE ${q(table)}` : `DELETE FROM ${q(table)} WHERE ${cond}`,
        params,
      );
      return Number(n);
    });
  }

  #scratchName(name: string): string {
    return `${this.#scratchPrefix}${name}`;
  }

  relation(name: string, scratch: boolean): string {
    if (!scratch) return q(name);
    const relation = q(this.#scratchName(name));
    this.#scratch.add(relation);
    return relation;
  }

  /** Scratch relations are Memory tables; stages (persistent) are MergeTree tables. */
  createTableAs(relation: string, select: string, params: SqlParams, scratch: boolean): Promise<void> {
    const engine = scratch ? "Memory" : "MergeTree ORDER BY tuple()";
    return this.#exclusive(async () => {
      await this.#command(
        `CREATE OR REPLACE TABLE ${relation} ENGINE = ${engine} AS ${await this.#storable(select, params)}`,
        params,
        insertSettings(null),
      );
    });
  }

  loadScratch(
    relation: string,
    schema: Readonly<Record<string, ColumnType>>,
    batches: RowBatches,
  ): Promise<void> {
    const cols = scratchColumns(schema);
    const columns = cols.map(([n, t]): [string, string] => [n, this.#engineType(t)]);
    return this.#exclusive(async () => {
      await this.#command(
        `CREATE OR REPLACE TABLE ${relation} (${cols.map(([n, t]) => this.#columnDef(n, t)).join(", ")}) ENGINE = Memory`,
        {},
      );
      for await (const rows of batches)
        if (rows.length > 0)
          await this.#client.insert({
            table: relation,
            values: encodeRows(relation, columns, rows),
            format: "JSONEachRow",
            clickhouse_settings: insertSettings(null),
          });
    });
  }

  dropTable(relation: string): Promise<void> {
    return this.#exclusive(async () => {
      await this.#command(`DROP TABLE IF EXISTS ${relation} SYNC`, {});
      this.#scratch.delete(relation);
    });
  }

  forget(table: string): void {
    this.#layouts.delete(table);
  }
}

function toRow(
  names: readonly string[],
  decoders: ReadonlyArray<(v: unknown) => unknown>,
  values: unknown[],
): Row {
  const row: Row = {};
  for (let i = 0; i < names.length; i++) row[names[i]] = decoders[i](values[i]);
  return row;
}

/** Rows of the client's `JSONCompactEachRowWithNamesAndTypes` stream (names, types, then rows). */
async function* clientRows(chunks: AsyncIterable<Array<{ json(): unknown }>>): AsyncGenerator<Row> {
  let names: string[] | undefined;
  let decoders: Array<(v: unknown) => unknown> | undefined;
  for await (const chunk of chunks)
    for (const row of chunk) {
      const values = row.json() as unknown[];
      if (!names) names = values as string[];
      else if (!decoders) decoders = (values as string[]).map(decoderFor);
      else yield toRow(names, decoders, values);
    }
}

/** A value as ClickHouse parses a query parameter: its escaped text form (backslash, tab, newline, CR, NUL). */
function escapedText(value: string): string {
  return value
    .replaceAll("\\", "\\\\")
    .replaceAll("\t", "\\t")
    .replaceAll("\n", "\\n")
    .replaceAll("\r", "\\r")
    .replaceAll("\u0000", "\\0");
}

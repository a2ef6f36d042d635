import { type DuckDBAppender, type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { MetadataStoreError, type Row, StoreClosedError, StoreLockedError } from "@metaxy/core";
import { q, s, structFields } from "./duckdb-dialect.js";
import { appendValue, rowsFromChunk } from "./duckdb-values.js";
import { loadXxhash, registerXxhashFunctions } from "./xxhash-functions.js";

/**
 * Connection lifecycle and statement execution for one DuckDB database (file or `:memory:`).
 * The only place that touches `@duckdb/node-api`.
 */
export class DuckDBSession {
  #instance: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;
  #ownsInstance: boolean;
  /** Serialises statements: one DuckDB connection runs one statement at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  #appends = 0;
  readonly #layouts = new Map<string, Array<[string, string]>>();
  readonly #streams = new Set<{ connection: DuckDBConnection; fetching: Promise<unknown> }>();
  #closing: Promise<void> | undefined;

  constructor(
    readonly path: string,
    instance?: DuckDBInstance,
    readonly config: Record<string, string> = {},
  ) {
    this.#instance = instance;
    this.#ownsInstance = !instance;
  }

  async open(readOnly: boolean): Promise<void> {
    if (this.#connection) return;
    try {
      this.#instance ??= await DuckDBInstance.create(this.path, {
        ...(readOnly && this.path !== ":memory:" ? { access_mode: "READ_ONLY" } : {}),
        ...this.config,
      });
    } catch (e) {
      const message = String((e as Error).message ?? e);
      if (/lock/i.test(message))
        throw new StoreLockedError(
          `DuckDB file "${this.path}" is locked by another process. DuckDB allows one writing process per file: route writes through one process (e.g. one Temporal worker or activity), or open read-only stores with mode "r" while no writer holds the file. (${message})`,
          { path: this.path },
          { cause: e },
        );
      throw new MetadataStoreError(
        `Cannot open DuckDB database "${this.path}": ${message}`,
        { path: this.path },
        { cause: e },
      );
    }
    this.#connection = await this.#instance.connect();
    await loadXxhash();
    registerXxhashFunctions(this.#connection);
  }

  /**
   * Closes after every queued statement and every in-flight stream fetch has finished: freeing
   * the instance under a running query would crash the process. Open streams then fail with
   * STORE_CLOSED at their next batch.
   */
  async close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      await this.#queue;
      for (const s of this.#streams) {
        await s.fetching;
        s.connection.closeSync();
      }
      this.#streams.clear();
      this.#layouts.clear();
      this.#connection?.closeSync();
      this.#connection = undefined;
      if (this.#ownsInstance) {
        this.#instance?.closeSync();
        this.#instance = undefined;
      }
    })();
    return this.#closing;
  }

  get connection(): DuckDBConnection {
    if (!this.#connection) throw new MetadataStoreError("DuckDB backend is not open");
    return this.#connection;
  }

  /** Runs `fn` after every statement queued before it. */
  exclusive<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.#closing) return Promise.reject(new StoreClosedError("The DuckDB database is closed"));
    const next = this.#queue.then(() => fn(this.connection));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  run(sql: string): Promise<number> {
    return this.exclusive(async (c) => (await c.run(sql)).rowsChanged);
  }

  async all(sql: string): Promise<Row[]> {
    return this.exclusive(async (c) => {
      const result = await c.run(sql);
      const names = result.columnNames();
      const types = result.columnTypes();
      const rows: Row[] = [];
      for (const chunk of await result.fetchAllChunks())
        for (const row of rowsFromChunk(names, types, chunk)) rows.push(row);
      return rows;
    });
  }

  /**
   * Streams a query's rows in batches of at most `batchSize` on a connection of its own, so the
   * caller may write (on the main connection) between batches.
   */
  async *stream(sql: string, batchSize: number): AsyncGenerator<Row[]> {
    if (!this.#instance || this.#closing) throw new MetadataStoreError("DuckDB backend is not open");
    const connection = await this.#instance.connect();
    const handle: { connection: DuckDBConnection; fetching: Promise<unknown> } = {
      connection,
      fetching: Promise.resolve(),
    };
    this.#streams.add(handle);
    // Each fetch is tracked, so `close` waits for it instead of freeing memory under it.
    const track = <T>(p: Promise<T>): Promise<T> => {
      if (this.#closing) throw new StoreClosedError("The DuckDB database was closed during a read");
      handle.fetching = p.catch(() => undefined);
      return p;
    };
    try {
      registerXxhashFunctions(connection);
      const result = await track(connection.stream(sql));
      const names = result.columnNames();
      const types = result.columnTypes();
      let batch: Row[] = [];
      for (
        let chunk = await track(result.fetchChunk());
        chunk && chunk.rowCount > 0;
        chunk = await track(result.fetchChunk())
      ) {
        for (const row of rowsFromChunk(names, types, chunk)) {
          batch.push(row);
          if (batch.length >= batchSize) {
            yield batch;
            batch = [];
          }
        }
      }
      if (batch.length > 0) yield batch;
    } finally {
      if (this.#streams.delete(handle)) connection.closeSync();
    }
  }

  /** Column name → DuckDB type name, in table order; null when the table does not exist. */
  describe(table: string, catalog?: string): Promise<Array<[string, string]> | null> {
    return this.exclusive((c) => describeOn(c, table, catalog));
  }

  /** Column layout of a table, cached (every DDL of this process goes through this driver). */
  layout(table: string): Promise<Array<[string, string]> | null> {
    const cached = this.#layouts.get(table);
    return cached ? Promise.resolve(cached) : this.exclusive((c) => this.layoutOn(c, table));
  }

  /** `layout` on a connection the caller holds (inside `exclusive`). */
  async layoutOn(c: DuckDBConnection, table: string): Promise<Array<[string, string]> | null> {
    const cached = this.#layouts.get(table);
    if (cached) return cached;
    const columns = await describeOn(c, table);
    // Absent tables are not cached: another connection of an injected instance may create them.
    if (columns) this.#layouts.set(table, columns);
    return columns;
  }

  forget(table: string): void {
    this.#layouts.delete(table);
  }

  /**
   * Appends rows to several tables all-or-nothing. Each part's rows go through DuckDB's appender
   * into an in-memory scratch table (MAP columns split into one VARCHAR column per key, the
   * appender's slow path avoided); then one transaction runs every part's DDL (new table, new
   * columns), its `before` check (idempotency) and one `INSERT ... SELECT` into its target. A
   * failure, a rejection or a killed process leaves tables, columns and rows as they were.
   * `parts` is built inside the statement queue, so it sees the layouts of all earlier writes.
   */
  appendParts(
    scratchCatalog: string,
    plan: (c: DuckDBConnection) => Promise<AppendPart[]>,
  ): Promise<number[]> {
    return this.exclusive(async (c) => {
      const parts = await plan(c);
      const scratches: string[] = [];
      try {
        const loaded = [];
        for (const part of parts) {
          const scratch = `${scratchCatalog}.append_${++this.#appends}`;
          scratches.push(scratch);
          loaded.push(await loadScratch(c, scratchCatalog, scratch, part));
        }
        await c.run("BEGIN TRANSACTION");
        try {
          const counts: number[] = [];
          for (const [i, part] of parts.entries()) {
            for (const ddl of part.ddl) await c.run(ddl);
            if (part.before && !(await part.before(c))) {
              counts.push(0);
              continue;
            }
            await c.run(
              `INSERT INTO ${part.target} (${part.columns.map(([n]) => q(n)).join(", ")}) SELECT ${loaded[i].join(", ")} FROM ${scratches[i]}`,
            );
            counts.push(part.rows.length);
          }
          await c.run("COMMIT");
          return counts;
        } catch (e) {
          await c.run("ROLLBACK").catch(() => undefined);
          throw e;
        } finally {
          for (const part of parts) if (part.ddl.length > 0) this.#layouts.delete(part.table);
        }
      } finally {
        for (const scratch of scratches) await c.run(`DROP TABLE IF EXISTS ${scratch}`);
      }
    });
  }

  /** Appends rows to one existing table (scratch relations of samples and fallback rows). */
  async append(
    target: string,
    columns: ReadonlyArray<[string, string]>,
    rows: readonly Row[],
    scratchCatalog: string,
  ): Promise<number> {
    const [n] = await this.appendParts(scratchCatalog, async () => [
      { table: target, target, ddl: [], columns, rows },
    ]);
    return n;
  }
}

async function describeOn(
  c: DuckDBConnection,
  table: string,
  catalog?: string,
): Promise<Array<[string, string]> | null> {
  const where = catalog
    ? `table_catalog = '${catalog}'`
    : "table_catalog = current_database() AND table_schema = current_schema()";
  const result = await c.runAndReadAll(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '${table.replaceAll("'", "''")}' AND ${where} ORDER BY ordinal_position`,
  );
  const rows = result.getRows() as Array<[string, string]>;
  return rows.length === 0 ? null : rows.map(([n, t]) => [n, t]);
}

/** One table's share of `appendParts`. */
export interface AppendPart {
  /** Table name (unquoted), for the layout cache. */
  readonly table: string;
  /** Quoted, possibly catalog-qualified relation. */
  readonly target: string;
  /** Statements that create or widen the target, run inside the transaction. */
  readonly ddl: readonly string[];
  /** The target's columns after `ddl`, with DuckDB type names as DESCRIBE spells them. */
  readonly columns: ReadonlyArray<[string, string]>;
  readonly rows: readonly Row[];
  /** Runs in the transaction before the insert; false skips this part. */
  readonly before?: (c: DuckDBConnection) => Promise<boolean>;
}

/** Fills a scratch table with `rows` through the appender; returns the SELECT list rebuilding `columns`. */
async function loadScratch(
  c: DuckDBConnection,
  catalog: string,
  scratch: string,
  { table, columns, rows }: AppendPart,
): Promise<string[]> {
  const layout = scratchLayout(table, columns, rows);
  await c.run(
    `CREATE OR REPLACE TABLE ${scratch} (${layout.scratchColumns.map(([n, t]) => `${q(n)} ${t}`).join(", ")})`,
  );
  const appender = await c.createAppender(scratch.slice(catalog.length + 1), null, catalog);
  try {
    for (const row of rows) {
      for (const col of layout.writers) col(appender, row);
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  return layout.selectList;
}

export { q };

type ColumnWriter = (appender: DuckDBAppender, row: Row) => void;

/** How rows map onto the scratch table, and how the INSERT rebuilds the target's columns. */
function scratchLayout(table: string, columns: ReadonlyArray<[string, string]>, rows: readonly Row[]) {
  const scratchColumns: Array<[string, string]> = [];
  const writers: ColumnWriter[] = [];
  const selectList: string[] = [];
  columns.forEach(([name, type], i) => {
    const struct = name.endsWith("_by_field") ? structFields(type) : null;
    if (type === "MAP(VARCHAR, VARCHAR)" || struct) {
      // One VARCHAR scratch column per key; a struct takes exactly its own fields (NULL when absent).
      const keys = new Set<string>(struct ?? []);
      if (!struct)
        for (const r of rows) {
          const m = r[name];
          if (m && typeof m === "object") for (const k of Object.keys(m)) keys.add(k);
        }
      const present = `c${i}`;
      scratchColumns.push([present, "BOOLEAN"]);
      writers.push((a, r) => a.appendBoolean(r[name] !== null && r[name] !== undefined));
      const keyList = [...keys];
      keyList.forEach((k, j) => {
        scratchColumns.push([`c${i}_${j}`, "VARCHAR"]);
        writers.push((a, r) => {
          const v = (r[name] as Record<string, unknown> | null | undefined)?.[k];
          if (v === null || v === undefined) a.appendNull();
          else a.appendVarchar(String(v));
        });
      });
      const built = struct
        ? `{${keyList.map((k, j) => `${s(k)}: c${i}_${j}`).join(", ")}}`
        : keyList.length === 0
          ? "MAP {}::MAP(VARCHAR, VARCHAR)"
          : `map([${keyList.map((k) => s(k)).join(", ")}], [${keyList.map((_, j) => `c${i}_${j}`).join(", ")}])`;
      selectList.push(`CASE WHEN ${present} THEN ${built} END`);
    } else if (type === "TIMESTAMP WITH TIME ZONE") {
      // Epoch microseconds: the appender's TIMESTAMPTZ path goes through a slow generic conversion.
      scratchColumns.push([`c${i}`, "BIGINT"]);
      let lastMs = Number.NaN;
      let lastMicros = 0n;
      writers.push((a, r) => {
        const v = r[name];
        if (v === null || v === undefined) return a.appendNull();
        const ms = v instanceof Date ? v.getTime() : new Date(v as string).getTime();
        if (Number.isNaN(ms)) return appendValue(a, type, v, table, name); // raises a typed error
        if (ms !== lastMs) {
          lastMs = ms;
          lastMicros = BigInt(ms) * 1000n;
        }
        a.appendBigInt(lastMicros);
      });
      selectList.push(`make_timestamptz(c${i})`);
    } else {
      scratchColumns.push([`c${i}`, type]);
      writers.push((a, r) => appendValue(a, type, r[name], table, name));
      selectList.push(`c${i}`);
    }
  });
  return { scratchColumns, writers, selectList };
}

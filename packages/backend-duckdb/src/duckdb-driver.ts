import { type DuckDBAppender, type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { MetadataStoreError, type Row, StoreLockedError } from "@metaxy/core";
import { q } from "./duckdb-dialect.js";
import { appendValue, rowsFromChunk } from "./duckdb-values.js";
import { registerXxhashFunctions } from "./xxhash-functions.js";

/**
 * Connection lifecycle and statement execution for one DuckDB database (file or `:memory:`).
 * The only place that touches `@duckdb/node-api`.
 */
export class DuckDBDriver {
  #instance: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;
  #ownsInstance: boolean;
  /** Serialises statements: one DuckDB connection runs one statement at a time. */
  #queue: Promise<unknown> = Promise.resolve();
  #appends = 0;

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
    registerXxhashFunctions(this.#connection);
  }

  close(): void {
    this.#connection?.closeSync();
    this.#connection = undefined;
    if (this.#ownsInstance) {
      this.#instance?.closeSync();
      this.#instance = undefined;
    }
  }

  get connection(): DuckDBConnection {
    if (!this.#connection) throw new MetadataStoreError("DuckDB backend is not open");
    return this.#connection;
  }

  /** Runs `fn` after every statement queued before it. */
  exclusive<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
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
    if (!this.#instance) throw new MetadataStoreError("DuckDB backend is not open");
    const connection = await this.#instance.connect();
    try {
      registerXxhashFunctions(connection);
      const result = await connection.stream(sql);
      const names = result.columnNames();
      const types = result.columnTypes();
      let batch: Row[] = [];
      for (
        let chunk = await result.fetchChunk();
        chunk && chunk.rowCount > 0;
        chunk = await result.fetchChunk()
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
      connection.closeSync();
    }
  }

  /** Column name → DuckDB type name, in table order; null when the table does not exist. */
  async describe(table: string, catalog?: string): Promise<Array<[string, string]> | null> {
    const where = catalog
      ? `table_catalog = '${catalog}'`
      : "table_catalog = current_database() AND table_schema = current_schema()";
    const rows = await this.all(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '${table.replaceAll("'", "''")}' AND ${where} ORDER BY ordinal_position`,
    );
    return rows.length === 0 ? null : rows.map((r) => [r.column_name as string, r.data_type as string]);
  }

  /**
   * Appends rows all-or-nothing: they go through DuckDB's appender into an in-memory scratch
   * table (MAP columns split into one VARCHAR column per key, the appender's slow path avoided),
   * then one `INSERT ... SELECT` inside a transaction moves them into `target` (a quoted, possibly
   * catalog-qualified relation). A failure or a killed process leaves none of them. `before` runs
   * in the same transaction (idempotency).
   */
  append(
    target: string,
    columns: ReadonlyArray<[string, string]>,
    rows: readonly Row[],
    scratchCatalog: string,
    before?: (c: DuckDBConnection) => Promise<boolean>,
  ): Promise<number> {
    return this.exclusive(async (c) => {
      const scratch = `append_${++this.#appends}`;
      const layout = scratchLayout(columns, rows);
      await c.run(
        `CREATE OR REPLACE TABLE ${scratchCatalog}.${scratch} (${layout.scratchColumns.map(([n, t]) => `${q(n)} ${t}`).join(", ")})`,
      );
      try {
        const appender = await c.createAppender(scratch, null, scratchCatalog);
        try {
          for (const row of rows) {
            for (const col of layout.writers) col(appender, row);
            appender.endRow();
          }
          appender.flushSync();
        } finally {
          appender.closeSync();
        }
        await c.run("BEGIN TRANSACTION");
        try {
          if (before && !(await before(c))) {
            await c.run("ROLLBACK");
            return 0;
          }
          await c.run(
            `INSERT INTO ${target} (${columns.map(([n]) => q(n)).join(", ")}) SELECT ${layout.selectList.join(", ")} FROM ${scratchCatalog}.${scratch}`,
          );
          await c.run("COMMIT");
          return rows.length;
        } catch (e) {
          await c.run("ROLLBACK").catch(() => undefined);
          throw e;
        }
      } finally {
        await c.run(`DROP TABLE IF EXISTS ${scratchCatalog}.${scratch}`);
      }
    });
  }
}

export { q };

type ColumnWriter = (appender: DuckDBAppender, row: Row) => void;

/** How rows map onto the scratch table, and how the INSERT rebuilds the target's columns. */
function scratchLayout(columns: ReadonlyArray<[string, string]>, rows: readonly Row[]) {
  const scratchColumns: Array<[string, string]> = [];
  const writers: ColumnWriter[] = [];
  const selectList: string[] = [];
  columns.forEach(([name, type], i) => {
    if (type === "MAP(VARCHAR, VARCHAR)") {
      const keys = new Set<string>();
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
      const built =
        keyList.length === 0
          ? "MAP {}::MAP(VARCHAR, VARCHAR)"
          : `map([${keyList.map((k) => `'${k.replaceAll("'", "''")}'`).join(", ")}], [${keyList.map((_, j) => `c${i}_${j}`).join(", ")}])`;
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
        if (Number.isNaN(ms)) return appendValue(a, type, v, "(append)", name); // raises a typed error
        if (ms !== lastMs) {
          lastMs = ms;
          lastMicros = BigInt(ms) * 1000n;
        }
        a.appendBigInt(lastMicros);
      });
      selectList.push(`make_timestamptz(c${i})`);
    } else {
      scratchColumns.push([`c${i}`, type]);
      writers.push((a, r) => appendValue(a, type, r[name], "(append)", name));
      selectList.push(`c${i}`);
    }
  });
  return { scratchColumns, writers, selectList };
}

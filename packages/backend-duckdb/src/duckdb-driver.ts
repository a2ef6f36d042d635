import { type DuckDBConnection, DuckDBInstance, DuckDBTypeId } from "@duckdb/node-api";
import { MetadataStoreError, type Row, StoreLockedError } from "@metaxy/core";
import { q } from "./duckdb-dialect.js";
import { appendValue, fromDuckdbRow } from "./duckdb-values.js";
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
      const reader = await c.runAndReadAll(sql);
      const maps = mapColumns(reader.columnNames(), reader.columnTypes());
      return reader.getRowObjectsJS().map((r) => fromDuckdbRow(r as Row, maps));
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
      const maps = mapColumns(result.columnNames(), result.columnTypes());
      let batch: Row[] = [];
      for await (const rows of result.yieldRowObjectJs()) {
        for (const r of rows) {
          batch.push(fromDuckdbRow(r as Row, maps));
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
  async describe(table: string): Promise<Array<[string, string]> | null> {
    const rows = await this.all(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = '${table.replaceAll("'", "''")}' AND table_schema = current_schema() ORDER BY ordinal_position`,
    );
    return rows.length === 0 ? null : rows.map((r) => [r.column_name as string, r.data_type as string]);
  }

  /**
   * Appends rows through DuckDB's appender inside one transaction: a failure or a killed process
   * leaves none of them. `before` runs in the same transaction (idempotency bookkeeping).
   */
  append(
    table: string,
    columns: ReadonlyArray<[string, string]>,
    rows: readonly Row[],
    before?: (c: DuckDBConnection) => Promise<boolean>,
  ): Promise<number> {
    return this.exclusive(async (c) => {
      await c.run("BEGIN TRANSACTION");
      try {
        if (before && !(await before(c))) {
          await c.run("ROLLBACK");
          return 0;
        }
        const appender = await c.createAppender(table);
        try {
          for (const row of rows) {
            for (const [name, type] of columns) appendValue(appender, type, row[name], table, name);
            appender.endRow();
          }
          appender.flushSync();
        } finally {
          appender.closeSync();
        }
        await c.run("COMMIT");
        return rows.length;
      } catch (e) {
        await c.run("ROLLBACK").catch(() => undefined);
        throw e;
      }
    });
  }
}

function mapColumns(names: readonly string[], types: readonly { typeId: DuckDBTypeId }[]): string[] {
  return names.filter((_, i) => types[i].typeId === DuckDBTypeId.MAP);
}

export { q };

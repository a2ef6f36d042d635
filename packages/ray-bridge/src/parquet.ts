import { rm, writeFile } from "node:fs/promises";
import { DuckDBInstance } from "@duckdb/node-api";
import type { Row } from "@metaxy/core";

/**
 * Parquet in and out of Node through an in-memory DuckDB: rows go to Parquet through a
 * newline-delimited JSON file (`read_json` infers the types over the whole batch), and come back
 * with `read_parquet`. One batch at a time, so memory stays bounded by the batch size.
 */
export class ParquetFiles {
  private constructor(private readonly instance: DuckDBInstance) {}

  static async open(): Promise<ParquetFiles> {
    return new ParquetFiles(await DuckDBInstance.create(":memory:", { threads: "1" }));
  }

  /** Writes `rows` to `path` (a Parquet file). */
  async write(rows: readonly Row[], path: string): Promise<void> {
    const ndjson = `${path}.ndjson`;
    await writeFile(ndjson, rows.map((r) => JSON.stringify(r, jsonValue)).join("\n"));
    const connection = await this.instance.connect();
    try {
      await connection.run(
        `COPY (SELECT * FROM read_json(${quote(ndjson)}, format = 'newline_delimited', sample_size = -1)) TO ${quote(path)} (FORMAT parquet)`,
      );
    } finally {
      connection.closeSync();
      await rm(ndjson, { force: true });
    }
  }

  /** Every row of the Parquet file at `path`, as JS values (64-bit integers as bigint). */
  async read(path: string): Promise<Row[]> {
    const connection = await this.instance.connect();
    try {
      const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet(${quote(path)})`);
      return reader.getRowObjectsJS() as Row[];
    } finally {
      connection.closeSync();
    }
  }

  close(): void {
    this.instance.closeSync();
  }
}

function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value !== "bigint") return value;
  // JSON has no 64-bit integers: exact ones as numbers, larger ones as text.
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}

const quote = (s: string) => `'${s.replaceAll("'", "''")}'`;

import { DuckDBInstance } from "@duckdb/node-api";

/** Runs SQL on a DuckDB file outside any store (each call opens and closes it, so Python can). */
export async function query(db: string, sql: string, readOnly = true): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(db, readOnly ? { access_mode: "READ_ONLY" } : {});
  try {
    const c = await instance.connect();
    const rows = (await c.runAndReadAll(sql)).getRowObjectsJS();
    c.closeSync();
    return rows as Record<string, unknown>[];
  } finally {
    instance.closeSync();
  }
}

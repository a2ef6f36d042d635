import { existsSync, realpathSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { StoreLockedError } from "@metaxy/core";
import { DuckDBSession } from "./duckdb-session.js";

/**
 * One DuckDB instance per database file per process. DuckDB's file lock only keeps other
 * processes out: two instances on one file inside one process both "succeed" and overwrite each
 * other's writes. So every store on a file shares one driver (its instance, connection, statement
 * queue and table layouts), released when the last store closes.
 */
interface SharedDatabase {
  readonly driver: Promise<DuckDBSession>;
  readonly readOnly: boolean;
  refs: number;
}

const databases = new Map<string, SharedDatabase>();

/** The canonical name of a database file (links and relative paths resolved). */
export function databaseKey(path: string): string {
  const absolute = resolve(path);
  if (existsSync(absolute)) return realpathSync(absolute);
  const dir = dirname(absolute);
  return existsSync(dir) ? join(realpathSync(dir), basename(absolute)) : absolute;
}

/** Opens (or joins) the process's driver for `path`. A writer cannot join a read-only instance. */
export async function acquireDatabase(
  path: string,
  readOnly: boolean,
  config: Record<string, string>,
): Promise<{ key: string; driver: DuckDBSession }> {
  const key = databaseKey(path);
  const shared = databases.get(key);
  if (shared) {
    if (shared.readOnly && !readOnly)
      throw new StoreLockedError(
        `DuckDB file "${path}" is open read-only by another store of this process; close it before opening a writable store, or open this one with mode "r"`,
        { path },
      );
    shared.refs++;
    try {
      return { key, driver: await shared.driver };
    } catch (e) {
      shared.refs--;
      throw e;
    }
  }
  const driver = new DuckDBSession(path, undefined, config);
  const entry: SharedDatabase = {
    driver: driver.open(readOnly).then(() => driver),
    readOnly,
    refs: 1,
  };
  databases.set(key, entry);
  try {
    return { key, driver: await entry.driver };
  } catch (e) {
    if (databases.get(key) === entry) databases.delete(key);
    throw e;
  }
}

/** Releases one store's hold; the last one closes the instance (and frees the file lock). */
export async function releaseDatabase(key: string): Promise<void> {
  const shared = databases.get(key);
  if (!shared) return;
  if (--shared.refs > 0) return;
  databases.delete(key);
  await (await shared.driver).close();
}

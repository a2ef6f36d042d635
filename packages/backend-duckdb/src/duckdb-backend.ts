import type { DuckDBInstance } from "@duckdb/node-api";
import type { Backend, HashAlgorithm } from "@metaxy/core";
import { SqlBackend } from "@metaxy/backend-sql";
import { type ByFieldLayout, DuckDBDriver } from "./duckdb-driver.js";

export interface DuckDBBackendOptions {
  /** A database file, or `:memory:` (default). */
  path?: string;
  /** An already-created instance (its lifecycle stays yours). */
  instance?: DuckDBInstance;
  /** Default record hash: `md5` (native, fastest). `xxhash64`/`xxhash32` run as JS functions. */
  hashAlgorithm?: HashAlgorithm;
  /** DuckDB configuration options (`threads`, `memory_limit`, ...). */
  config?: Record<string, string>;
  /**
   * How new tables keep the `*_by_field` columns: `"map"` (Python Metaxy with
   * `enable_map_datatype=True`) or `"struct"` (Python Metaxy's default). Default: the layout of
   * the store's existing tables, else `"map"`. Tables of either layout are read and appended to.
   */
  layout?: ByFieldLayout;
}

/** The embedded default backend: a DuckDB file (or memory), resolve-update compiled to one SQL pass. */
export function duckdb(options: DuckDBBackendOptions = {}): Backend {
  return new SqlBackend(new DuckDBDriver(options), {
    kind: "duckdb",
    capabilities: {
      hashAlgorithms: ["md5", "sha256", "xxhash64", "xxhash32", "xxh3_64"],
      defaultHashAlgorithm: options.hashAlgorithm ?? "md5",
      atomicWrites: true,
    },
  });
}

import { resolve } from "node:path";
import { type ClickHouseClient, createClient } from "@clickhouse/client";
import { SqlBackend } from "@metaxy/backend-sql";
import { type Backend, type HashAlgorithm, MetadataStoreError, StoreLockedError } from "@metaxy/core";
import { ClickHouseDriver, type EmbeddedClient } from "./clickhouse-driver.js";

interface CommonOptions {
  /** Database of the store (created when the store opens for writing). Default `default`. */
  database?: string;
  /** Default record hash (every algorithm is a native ClickHouse function). Default `xxhash64`. */
  hashAlgorithm?: HashAlgorithm;
}

/** A server over HTTP(S), or a client you created (its lifecycle stays yours). */
export type ClickHouseOptions =
  | (CommonOptions & { client: ClickHouseClient })
  | (CommonOptions & { url?: string; username?: string; password?: string; client?: undefined });

export interface ClickHouseEmbeddedOptions extends CommonOptions {
  /** Data directory of the in-process engine; one per process (a chdb limit), many databases in it. */
  path: string;
}

function backend(driver: ClickHouseDriver, hashAlgorithm: HashAlgorithm | undefined): Backend {
  return new SqlBackend(driver, {
    kind: "clickhouse",
    capabilities: {
      hashAlgorithms: ["xxhash64", "xxhash32", "xxh3_64", "md5", "sha256"],
      defaultHashAlgorithm: hashAlgorithm ?? "xxhash64",
      // One insert per write, one block per insert; several writes of one call are not one transaction.
      atomicWrites: true,
    },
  });
}

/**
 * A ClickHouse store over the official `@clickhouse/client`: pass your client (`{ client,
 * database }`; the client's database must be `database`) or a server's `url`.
 */
export function clickhouse(options: ClickHouseOptions = {}): Backend {
  const database = options.database ?? "default";
  if (options.client)
    return backend(
      new ClickHouseDriver({ client: options.client, database, ownsClient: false, where: "client" }),
      options.hashAlgorithm,
    );
  const { url = "http://localhost:8123", username, password } = options;
  return backend(
    new ClickHouseDriver({
      client: async () => createClient({ url, username, password, database }),
      database,
      ownsClient: true,
      where: url,
    }),
    options.hashAlgorithm,
  );
}

/**
 * The same store over the in-process ClickHouse engine of npm `chdb` (`chdb/connection` as the
 * client's connection): no server. Each store is a session of its own on the process's engine.
 */
clickhouse.embedded = function embedded(options: ClickHouseEmbeddedOptions): Backend {
  const path = resolve(options.path);
  return backend(
    new ClickHouseDriver({
      client: () => clickhouseEmbeddedClient(path),
      database: options.database ?? "default",
      ownsClient: true,
      where: `embedded:${path}`,
    }),
    options.hashAlgorithm,
  );
};

/** A `@clickhouse/client` over `chdb/connection` at `path`, with the connection's streaming query. */
export async function clickhouseEmbeddedClient(path: string): Promise<EmbeddedClient> {
  let createChdbConnection: (o: { path: string }) => unknown;
  try {
    ({ createChdbConnection } = (await import("chdb/connection")) as unknown as {
      createChdbConnection: typeof createChdbConnection;
    });
  } catch (e) {
    throw new MetadataStoreError(
      `clickhouse.embedded needs the npm package "chdb" (the in-process ClickHouse engine): npm install chdb (${(e as Error).message})`,
      { path },
      { cause: e },
    );
  }
  let connection: EmbeddedClient["streams"];
  let streams: EmbeddedClient["streams"];
  try {
    connection = createChdbConnection({ path }) as EmbeddedClient["streams"];
    streams = createChdbConnection({ path }) as EmbeddedClient["streams"];
  } catch (e) {
    throw new StoreLockedError(
      `Cannot open embedded ClickHouse at "${path}": ${(e as Error).message}. The chdb engine binds one data directory per process, and a directory to one process: open every store of a process on one path (each may use its own database), and route other processes' writes through that one.`,
      { path },
      { cause: e },
    );
  }
  return {
    client: createClient({ connection } as unknown as Parameters<typeof createClient>[0]),
    streams,
  };
}

import { resolve } from "node:path";
import { type ClickHouseClient, createClient } from "@clickhouse/client";
import { MetadataStoreError, StoreLockedError } from "@metaxy/core";
import { ClickHouseDriver } from "./clickhouse-driver.js";

/** A server over HTTP(S), or a client you created (its lifecycle stays yours). */
export type ClickHouseOptions =
  | { client: ClickHouseClient; database?: string }
  | { url?: string; username?: string; password?: string; database?: string };

export interface ClickHouseEmbeddedOptions {
  /** Data directory of the in-process engine. One directory per process (a chdb limit). */
  path: string;
  /** Database inside the engine (default `default`): several stores share one directory this way. */
  database?: string;
}

/** A driver over an injected client, or over a client of our own for `url`. */
export function serverDriver(options: ClickHouseOptions): ClickHouseDriver {
  if ("client" in options && options.client)
    return new ClickHouseDriver({
      client: options.client,
      database: options.database ?? "default",
      ownsClient: false,
      where: "client",
    });
  const {
    url = "http://localhost:8123",
    username,
    password,
    database = "default",
  } = options as {
    url?: string;
    username?: string;
    password?: string;
    database?: string;
  };
  return new ClickHouseDriver({
    client: createClient({ url, username, password, database }),
    database,
    ownsClient: true,
    where: url,
  });
}

/**
 * A driver over `@clickhouse/client` with the in-process engine of npm `chdb` as its connection
 * (`chdb/connection`). Every store gets a session of its own on the process's engine.
 */
export async function embeddedDriver(options: ClickHouseEmbeddedOptions): Promise<ClickHouseDriver> {
  const path = resolve(options.path);
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
  let connection: unknown;
  try {
    connection = createChdbConnection({ path });
  } catch (e) {
    const message = String((e as Error).message ?? e);
    throw new StoreLockedError(
      `Cannot open embedded ClickHouse at "${path}": ${message}. The chdb engine binds one data directory per process: open every store of this process on one path (they may use different databases).`,
      { path },
      { cause: e },
    );
  }
  return new ClickHouseDriver({
    client: createClient({ connection } as Parameters<typeof createClient>[0]),
    database: options.database ?? "default",
    ownsClient: true,
    where: `embedded:${path}`,
  });
}

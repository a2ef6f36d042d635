import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { type ChdbStreams, ClickHouseDriver } from "../src/index.js";
import { resolve } from "node:path";

let path: string | undefined;

/**
 * The data directory of this test file's embedded engine. chdb binds one directory per process,
 * so every store of a test file lives there, each in a database of its own.
 */
export function sharedEnginePath(): string {
  if (!path) {
    const dir = mkdtempSync(join(tmpdir(), "metaxy-clickhouse-"));
    path = dir;
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
  }
  return path;
}

/** A driver on the embedded engine at `path` (the store's own path: what `clickhouse.embedded` builds). */
export async function embeddedDriver(options: {
  path: string;
  database?: string;
  /** Wraps the connection's streaming query (a test counts the chunks it fetches). */
  chdb?: (streams: ChdbStreams) => ChdbStreams;
}): Promise<ClickHouseDriver> {
  const { clickhouseEmbeddedClient } = await import("../src/clickhouse-backend.js");
  const path = resolve(options.path);
  const engine = await clickhouseEmbeddedClient(path);
  return new ClickHouseDriver({
    client: async () => {
      const { chdb, close } = engine.streams;
      return {
        client: engine.client,
        streams: { chdb: options.chdb ? options.chdb(chdb) : chdb, close: () => close.call(engine.streams) },
      };
    },
    database: options.database ?? "default",
    ownsClient: true,
    where: `embedded:${path}`,
  });
}

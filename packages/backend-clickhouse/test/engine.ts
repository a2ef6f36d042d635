import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

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

/**
 * Issue 14 item 4: Python's DuckDB store hashes with xxhash32 by default and this library with
 * md5. Opening a Python store with the default here is a typed error naming both, not a resolve
 * that calls every record stale.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { duckdb } from "@metaxy/backend-duckdb";
import { HashAlgorithmMismatchError, MetadataStore } from "@metaxy/core";
import { afterAll, expect, it } from "vitest";
import { interopGraph, videoRows } from "./graph.js";
import { runPython } from "./peer.js";
import { resolveIds } from "./store-ops.js";

const dir = mkdtempSync(join(tmpdir(), "metaxy-python-hash-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it("a store Python wrote with its default xxhash32, opened with this library's default md5", async () => {
  const db = join(dir, "python-default.duckdb");
  runPython({
    db,
    hash: null,
    ops: [
      { op: "write_root", rows: videoRows(6) },
      { op: "materialize", feature: "interop/clip" },
    ],
  });
  const g = interopGraph();
  {
    await using store = await MetadataStore.open(duckdb({ path: db }), { graph: g.graph });
    expect(store.hashAlgorithm).toBe("md5");
    const error = await store.resolveUpdate(g.clip).catch((e) => e);
    expect(error).toBeInstanceOf(HashAlgorithmMismatchError);
    expect(error.details).toMatchObject({ hashAlgorithm: "md5", storedHashAlgorithm: "xxhash32" });
  }
  await using store = await MetadataStore.open(duckdb({ path: db }), {
    graph: g.graph,
    hashAlgorithm: "xxhash32",
  });
  expect(await resolveIds(store, "interop/clip")).toEqual({ new: [], stale: [], orphaned: [] });
});

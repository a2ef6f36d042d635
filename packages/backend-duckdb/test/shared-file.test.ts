import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeatureGraph, MetadataStore, defineFeature } from "@metaxy/core";
import { afterAll, describe, expect, it } from "vitest";
import { duckdb } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "metaxy-shared-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const raw = defineFeature({ key: "shared/raw", idColumns: ["sample_uid"], fields: ["default"] });
const graph = new FeatureGraph([raw]);
const rows = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    sample_uid: `s${from + i}`,
    metaxy_provenance_by_field: { default: `v${from + i}` },
  }));

async function countOnFreshStore(path: string): Promise<number> {
  await using store = await MetadataStore.open(duckdb({ path }), { graph, mode: "r" });
  return await store.count(raw);
}

describe("several stores on one DuckDB file in one process", () => {
  it("share one instance: every confirmed write survives closing", async () => {
    const path = join(dir, "two-writers.duckdb");
    const a = await MetadataStore.open(duckdb({ path }), { graph });
    const b = await MetadataStore.open(duckdb({ path }), { graph });
    expect(await a.write(raw, rows(0, 1000))).toBe(1000);
    expect(await b.write(raw, rows(1000, 1000))).toBe(1000);
    expect(await a.write(raw, rows(2000, 1000))).toBe(1000);
    // each sees the other's rows at once
    expect(await b.count(raw)).toBe(3000);
    await a.close();
    // b still works after a closed
    expect(await b.write(raw, rows(3000, 10))).toBe(10);
    await b.close();
    expect(await countOnFreshStore(path)).toBe(3010);
  });

  it("concurrent writes through two stores on one file lose nothing", async () => {
    const path = join(dir, "concurrent.duckdb");
    // the same file spelled two ways: a relative-free path and a symlink to its folder
    const link = join(dir, "link");
    symlinkSync(dir, link);
    const a = await MetadataStore.open(duckdb({ path }), { graph });
    const b = await MetadataStore.open(duckdb({ path: join(link, "concurrent.duckdb") }), { graph });
    const counts = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).write(raw, rows(i * 500, 500))),
    );
    expect(counts).toEqual([500, 500, 500, 500, 500, 500]);
    await Promise.all([a.close(), b.close()]);
    expect(await countOnFreshStore(path)).toBe(3000);
  });

  it("a writable store cannot join a file this process opened read-only (STORE_LOCKED)", async () => {
    const path = join(dir, "read-then-write.duckdb");
    {
      await using w = await MetadataStore.open(duckdb({ path }), { graph });
      await w.write(raw, rows(0, 5));
    }
    const reader = await MetadataStore.open(duckdb({ path }), { graph, mode: "r" });
    await expect(MetadataStore.open(duckdb({ path }), { graph })).rejects.toMatchObject({
      code: "STORE_LOCKED",
    });
    expect(await reader.count(raw)).toBe(5);
    await reader.close();
    // once the reader is gone, a writer opens
    await using w = await MetadataStore.open(duckdb({ path }), { graph });
    expect(await w.write(raw, rows(5, 5))).toBe(5);
  });

  it("a reader joins a writer's instance and sees its writes", async () => {
    const path = join(dir, "write-then-read.duckdb");
    await using w = await MetadataStore.open(duckdb({ path }), { graph });
    await w.write(raw, rows(0, 7));
    await using r = await MetadataStore.open(duckdb({ path }), { graph, mode: "r" });
    expect(await r.count(raw)).toBe(7);
    await w.write(raw, rows(7, 3));
    expect(await r.count(raw)).toBe(10);
  });
});

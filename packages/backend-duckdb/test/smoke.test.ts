import { MetadataStore, memory, type Row } from "@metaxy/core";
import { videoFeatures } from "@metaxy/core/testing";
import { describe, expect, it } from "vitest";
import { duckdb } from "../src/index.js";

const { raw, transcript, graph } = videoFeatures();
const rows = (n: number, tag = "") =>
  Array.from({ length: n }, (_, i) => ({
    sample_uid: `s${i}`,
    path: `/v/${i}`,
    metaxy_provenance_by_field: { audio: `a${i}${tag}`, frames: `f${i}` },
  }));

describe("duckdb smoke", () => {
  for (const algo of ["md5", "sha256", "xxhash64", "xxhash32"] as const)
    it(`matches memory for ${algo}`, async () => {
      const results: Row[][] = [];
      for (const backend of [duckdb(), memory()]) {
        await using store = await MetadataStore.open(backend, { graph, hashAlgorithm: algo });
        await store.write(raw, rows(5));
        const inc = await store.resolveUpdate(transcript);
        expect(await inc.counts()).toEqual({ new: 5, stale: 0, orphaned: 0, failed: 0 });
        const all = await inc.toArray();
        await store.write(
          transcript,
          all.new.map((r) => ({
            sample_uid: r.sample_uid as string,
            text: "t",
            metaxy_provenance_by_field: r.metaxy_provenance_by_field,
          })),
        );
        await store.write(raw, rows(2, "x"));
        const inc2 = await store.resolveUpdate(transcript);
        expect(await inc2.counts()).toEqual({ new: 0, stale: 2, orphaned: 0, failed: 0 });
        results.push(all.new.sort((a, b) => String(a.sample_uid).localeCompare(String(b.sample_uid))));
      }
      expect(results[0]).toEqual(results[1]);
    });
});

describe("duckdb with an injected instance", () => {
  it("uses the caller's DuckDBInstance and leaves it open", async () => {
    const { DuckDBInstance } = await import("@duckdb/node-api");
    const instance = await DuckDBInstance.create(":memory:");
    {
      await using store = await MetadataStore.open(duckdb({ instance }), { graph });
      await store.write(raw, rows(3));
    }
    // the store closed its connection, not the instance: the data is still there
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll('SELECT count(*) AS n FROM "video__raw"');
    expect(Number(reader.getRowObjectsJS()[0].n)).toBe(3);
    connection.closeSync();
    instance.closeSync();
  });
});

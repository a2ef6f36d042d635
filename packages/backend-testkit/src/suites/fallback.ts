import type { Backend, Row } from "@metaxy/core";
import type { ReadQuery } from "@metaxy/core/backend";
import { videoGraph } from "../fixtures/graphs.js";
import { collect, fieldHash, provenanceColumns, rawRows } from "../fixtures/rows.js";
import {
  type BackendConformanceOptions,
  idsOf,
  readSorted,
  sortRows,
  suiteTitle,
  useHarness,
} from "../harness.js";
import type { TestApi } from "../test-api.js";

export function fallbackSuite(test: TestApi, options: BackendConformanceOptions): void {
  const { describe, it, expect } = test;
  describe(suiteTitle(options, "fallback stores"), () => {
    const h = useHarness(test, options);

    async function pair() {
      const { graph, raw, transcript } = videoGraph();
      const fallback = await h.open(graph, { name: "fallback" });
      const primary = await h.open(graph, {
        name: "primary",
        fallbackStores: [fallback],
        hashAlgorithm: fallback.hashAlgorithm,
      });
      return { graph, raw, transcript, fallback, primary };
    }

    it("reads a feature absent from the primary from a fallback, whole feature at a time", async () => {
      const { raw, transcript, fallback, primary } = await pair();
      await fallback.write(raw, rawRows(3));
      await fallback.write(transcript, [
        { sample_uid: "s0", text: "fb", metaxy_provenance_by_field: { text: "t" } },
      ]);
      await primary.write(transcript, [
        { sample_uid: "s1", text: "pr", metaxy_provenance_by_field: { text: "t" } },
        { sample_uid: "s2", text: "pr", metaxy_provenance_by_field: { text: "t" } },
      ]);

      expect(await primary.hasFeature(raw)).toBe(false);
      expect(await primary.hasFeature(raw, true)).toBe(true);
      expect(await readSorted(primary, raw, "sample_uid", { columns: ["sample_uid", "path"] })).toEqual(
        await readSorted(fallback, raw, "sample_uid", { columns: ["sample_uid", "path"] }),
      );
      expect(idsOf(await primary.read(raw), "sample_uid")).toEqual(["s0", "s1", "s2"]);
      expect(await primary.count(raw, { filters: "sample_uid != 's0'" })).toBe(2);
      expect((await primary.findStoreFor(raw))?.name).toBe("fallback");
      await expect(primary.read(raw, { allowFallback: false })).rejects.toMatchObject({
        code: "FEATURE_NOT_FOUND",
        details: { feature: "video/raw" },
      });
      // present in the primary: the fallback's rows are never mixed in
      expect((await primary.read(transcript)).map((r) => [r.sample_uid, r.text]).sort()).toEqual([
        ["s1", "pr"],
        ["s2", "pr"],
      ]);
      // the fallback is untouched by writes to the primary
      expect(await fallback.count(transcript)).toBe(1);
    });

    it("resolves against an upstream found only in a fallback", async () => {
      const { raw, transcript, fallback, primary } = await pair();
      const algo = primary.hashAlgorithm;
      await fallback.write(raw, rawRows(3));
      await primary.write(transcript, [
        { sample_uid: "s0", text: "x", metaxy_provenance_by_field: { text: "old" } },
      ]);

      const inc = await collect(await primary.resolveUpdate(transcript));
      const expected = (i: number) => ({
        sample_uid: `s${i}`,
        ...provenanceColumns(algo, { text: fieldHash(algo, "text", "1", [["video/raw.audio", `a${i}`]]) }),
      });
      const pick = (r: Record<string, unknown>) => ({
        sample_uid: r.sample_uid,
        metaxy_provenance_by_field: r.metaxy_provenance_by_field,
        metaxy_provenance: r.metaxy_provenance,
        metaxy_data_version_by_field: r.metaxy_data_version_by_field,
        metaxy_data_version: r.metaxy_data_version,
      });
      expect(sortRows(inc.new, "sample_uid").map(pick)).toEqual([expected(1), expected(2)]);
      expect(inc.stale.map(pick)).toEqual([expected(0)]);
      expect(inc.orphaned).toEqual([]);
    });

    it("resolves against a fallback upstream with no live rows: its columns come from its table", async () => {
      const { raw, transcript, fallback, primary } = await pair();
      await fallback.write(raw, rawRows(2));
      await fallback.delete(raw, null);
      await primary.write(transcript, [
        { sample_uid: "s0", text: "x", metaxy_provenance_by_field: { text: "old" } },
      ]);
      const inc = await collect(await primary.resolveUpdate(transcript));
      expect([inc.new, inc.stale]).toEqual([[], []]);
      expect(idsOf(inc.orphaned, "sample_uid")).toEqual(["s0"]);
    });

    it("streams a fallback upstream into the resolve in batches of readBatchSize", async () => {
      const { graph, raw, transcript } = videoGraph();
      const spied = spyReads(await h.backend());
      const fallback = await h.open(graph, { name: "fallback", backend: spied.backend });
      const primary = await h.open(graph, {
        name: "primary",
        fallbackStores: [fallback],
        hashAlgorithm: fallback.hashAlgorithm,
        readBatchSize: 4,
      });
      const local = await h.open(graph, { hashAlgorithm: fallback.hashAlgorithm });
      for (const s of [fallback, local]) await s.write(raw, rawRows(10));
      spied.reads.length = 0;

      // Planning reads nothing: the rows are only pulled by the engine, batch by batch.
      await primary.planResolveUpdate(transcript);
      expect(spied.reads).toEqual([]);
      const viaFallback = await collect(await primary.resolveUpdate(transcript));
      expect(spied.reads).toEqual([{ table: raw.key.tableName, batchSize: 4, batches: [4, 4, 2] }]);
      expect(spied.counts).toBe(0);

      const direct = await collect(await local.resolveUpdate(transcript));
      expect(sortRows(viaFallback.new, "sample_uid")).toEqual(sortRows(direct.new, "sample_uid"));
      expect(viaFallback.new.length).toBe(10);
    });

    it("raises FeatureNotFoundError for a feature in neither store", async () => {
      const { raw, transcript, primary } = await pair();
      await expect(primary.read(raw)).rejects.toMatchObject({
        code: "FEATURE_NOT_FOUND",
        details: { feature: "video/raw" },
      });
      await expect(primary.count(raw)).rejects.toMatchObject({ code: "FEATURE_NOT_FOUND" });
      await expect(primary.resolveUpdate(transcript)).rejects.toMatchObject({
        code: "FEATURE_NOT_FOUND",
        details: { feature: "video/raw" },
      });
      expect(await primary.hasFeature(raw, true)).toBe(false);
    });
  });
}

/** `backend` with every `read` recorded (table, batch size asked for, each batch's length) and `count`s counted. */
function spyReads(backend: Backend) {
  const reads: { table: string; batchSize: number; batches: number[] }[] = [];
  const spy = { reads, counts: 0, backend };
  spy.backend = new Proxy(backend, {
    get(target, prop) {
      if (prop === "read")
        return async function* (query: ReadQuery, batchSize: number): AsyncGenerator<Row[]> {
          const entry = { table: query.table, batchSize, batches: [] as number[] };
          reads.push(entry);
          for await (const batch of target.read(query, batchSize)) {
            entry.batches.push(batch.length);
            yield batch;
          }
        };
      if (prop === "count")
        return (query: ReadQuery) => {
          spy.counts++;
          return target.count(query);
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return spy;
}

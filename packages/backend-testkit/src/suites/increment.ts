import type { Row } from "@metaxy/core";
import { videoGraph } from "../fixtures/graphs.js";
import { materialise, rawRow, rawRows } from "../fixtures/rows.js";
import { type BackendConformanceOptions, idsOf, suiteTitle, useHarness } from "../harness.js";
import type { TestApi } from "../test-api.js";

/** Transcript of raw s0..s22: s0..s9 materialised, s2/s5/s7/s8 since changed, s99 orphaned. */
async function scenario(h: ReturnType<typeof useHarness>) {
  const { graph, raw, transcript } = videoGraph();
  const store = await h.open(graph);
  await store.write(raw, rawRows(10));
  await materialise(store, "video/transcript", ["sample_uid"], () => ({ text: "t" }));
  await store.write(raw, [...rawRows(23).slice(10), ...[2, 5, 7, 8].map((i) => rawRow(i, "-v2"))]);
  await store.write(transcript, [
    { sample_uid: "s99", text: "t", metaxy_provenance_by_field: { text: "x" } },
  ]);
  const newIds = Array.from({ length: 13 }, (_, i) => `s${i + 10}`).sort();
  const staleIds = ["s2", "s5", "s7", "s8"];
  return { store, transcript, newIds, staleIds };
}

export function incrementSuite(test: TestApi, options: BackendConformanceOptions): void {
  const { describe, it, expect } = test;
  describe(suiteTitle(options, "increment handles"), () => {
    const h = useHarness(test, options);

    it("streams rows to process in batches: new, then stale", async () => {
      const { store, transcript, newIds, staleIds } = await scenario(h);
      const inc = await store.resolveUpdate(transcript);
      expect(await inc.counts()).toEqual({ new: 13, stale: 4, orphaned: 1, failed: 0 });
      const batches: Row[][] = [];
      for await (const b of inc.toProcess({ batchSize: 5 })) batches.push(b);
      for (const b of batches) expect(b.length).toBeGreaterThan(0);
      for (const b of batches) expect(b.length).toBeLessThanOrEqual(5);
      const rows = batches.flat();
      expect(
        rows
          .slice(0, 13)
          .map((r) => r.sample_uid as string)
          .sort(),
      ).toEqual(newIds);
      expect(
        rows
          .slice(13)
          .map((r) => r.sample_uid as string)
          .sort(),
      ).toEqual(staleIds);
      const orphans: Row[] = [];
      for await (const b of inc.batches("orphaned", { batchSize: 1 })) orphans.push(...b);
      expect(idsOf(orphans, "sample_uid")).toEqual(["s99"]);
      await inc.dispose();
    });

    it("stages an increment and pages it by batch number, every row exactly once", async () => {
      const { store, transcript, newIds, staleIds } = await scenario(h);
      const inc = await store.resolveUpdate(transcript);
      const staged = await inc.stage("wf-1/video/transcript");
      expect(staged.stageId).toBe("wf-1/video/transcript");
      expect(await staged.counts()).toEqual({ new: 13, stale: 4, orphaned: 1, failed: 0 });
      await inc.dispose();
      const direct: string[] = [];
      for (let b = 0; b < (await staged.batchCount(6)); b++)
        direct.push(...(await staged.batch(b, 6)).map((r) => r.sample_uid as string));
      expect(direct.length).toBe(17);
      expect(direct.slice().sort()).toEqual([...newIds, ...staleIds].sort());

      // re-attached by id, as another activity would
      const again = await store.openStagedIncrement("wf-1/video/transcript");
      expect(await again.counts()).toEqual({ new: 13, stale: 4, orphaned: 1, failed: 0 });
      expect(await again.batchCount(5)).toBe(4);
      const pages: Row[][] = [];
      for (let b = 0; b < 4; b++) pages.push(await again.batch(b, 5));
      expect(pages.map((p) => p.length)).toEqual([5, 5, 5, 2]);
      expect(await again.batch(4, 5)).toEqual([]);
      const seen = pages.flat().map((r) => r.sample_uid as string);
      expect(seen.slice().sort()).toEqual([...newIds, ...staleIds].sort());
      expect(new Set(seen).size).toBe(17);
      // new rows come first
      expect(seen.slice(0, 13).sort()).toEqual(newIds);
      // paging is stable: the same batch twice gives the same rows
      expect((await again.batch(2, 5)).map((r) => r.sample_uid)).toEqual(pages[2].map((r) => r.sample_uid));
      // another batch size covers the same rows
      const bySeven: string[] = [];
      for (let b = 0; b < (await again.batchCount(7)); b++)
        bySeven.push(...(await again.batch(b, 7)).map((r) => r.sample_uid as string));
      expect(bySeven.sort()).toEqual(seen.slice().sort());
      // staged rows carry what a worker needs to write them back
      for (const r of pages.flat()) {
        expect(typeof r.metaxy_provenance).toBe("string");
        expect(Object.keys(r.metaxy_provenance_by_field as Row)).toEqual(["text"]);
      }
      const orphans: Row[] = [];
      for await (const b of again.orphans({ batchSize: 10 })) orphans.push(...b);
      expect(idsOf(orphans, "sample_uid")).toEqual(["s99"]);

      await again.drop();
      await expect(store.openStagedIncrement("wf-1/video/transcript")).rejects.toThrow();
    });

    it("keeps two stages apart", async () => {
      const { store, transcript } = await scenario(h);
      const a = await (await store.resolveUpdate(transcript)).stage("stage-a");
      const b = await (await store.resolveUpdate(transcript, { targetFilters: "sample_uid = 's2'" })).stage(
        "stage-b",
      );
      expect(await a.counts()).toEqual({ new: 13, stale: 4, orphaned: 1, failed: 0 });
      expect(await b.counts()).toEqual({ new: 22, stale: 1, orphaned: 0, failed: 0 });
      await b.drop();
      expect(await (await store.openStagedIncrement("stage-a")).counts()).toEqual({
        new: 13,
        stale: 4,
        orphaned: 1,
        failed: 0,
      });
    });

    it("reports progress: share of input ids already materialised (stale counts as done)", async () => {
      const { graph, raw, transcript } = videoGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(10));
      const before = await store.resolveUpdate(transcript);
      expect(await before.progress()).toBe(0);
      await before.dispose();
      await store.write(
        transcript,
        [0, 1, 2, 3].map((i) => ({
          sample_uid: `s${i}`,
          text: "t",
          metaxy_provenance_by_field: { text: `x${i}` },
        })),
      );
      const inc = await store.resolveUpdate(transcript);
      expect(await inc.counts()).toEqual({ new: 6, stale: 4, orphaned: 0, failed: 0 });
      expect(await inc.progress()).toBe(40);
      await inc.dispose();
      await materialise(store, "video/transcript", ["sample_uid"], () => ({ text: "t" }));
      const done = await store.resolveUpdate(transcript);
      expect(await done.progress()).toBe(100);
      await done.dispose();
      // no input rows: no progress to report
      await store.delete(raw, null);
      const empty = await store.resolveUpdate(transcript);
      expect(await empty.progress()).toBeNull();
      await empty.dispose();
    });
  });
}

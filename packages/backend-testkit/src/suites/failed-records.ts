import { FeatureGraph, type Row, defineFeature } from "@metaxy/core";
import { z } from "zod";
import { type BackendConformanceOptions, idsOf, suiteTitle, useHarness } from "../harness.js";
import type { TestApi } from "../test-api.js";

/** frame/raw (root) → frame/embedding (one field on the pixels) → frame/cluster (N:1). */
function frameGraph(embeddingCode = "1") {
  const raw = defineFeature({
    key: "frame/raw",
    idColumns: ["frame_id"],
    fields: [{ key: "pixels", codeVersion: "1" }],
    schema: z.object({ frame_id: z.string(), video: z.string() }),
  });
  const embedding = defineFeature({
    key: "frame/embedding",
    idColumns: ["frame_id"],
    deps: [raw],
    fields: [{ key: "vector", codeVersion: embeddingCode, deps: [{ feature: raw, fields: ["pixels"] }] }],
    schema: z.object({ frame_id: z.string(), video: z.string(), dim: z.number().int() }),
  });
  const cluster = defineFeature({
    key: "frame/cluster",
    idColumns: ["video"],
    deps: [{ feature: embedding, lineage: { type: "aggregation", on: ["video"] } }],
    fields: [{ key: "centroid", codeVersion: "1" }],
    schema: z.object({ video: z.string() }),
  });
  return { raw, embedding, cluster, graph: new FeatureGraph([raw, embedding, cluster]) };
}

const rawRows = (n: number, pixels = (i: number) => `p${i}`): Row[] =>
  Array.from({ length: n }, (_, i) => ({
    frame_id: `f${i}`,
    video: `v${i % 2}`,
    metaxy_provenance_by_field: { pixels: pixels(i) },
  }));

/** Writes the increment's rows as computed (provenance copied from the increment). */
const computed = (rows: Row[]) =>
  rows.map((r) => ({
    frame_id: r.frame_id,
    video: r.video,
    dim: 8,
    metaxy_provenance_by_field: r.metaxy_provenance_by_field,
  }));

/**
 * Records whose computation failed for good are set aside: a resolve reports them as `failed`,
 * not new or stale, until their expected provenance changes or the caller asks to retry them.
 */
export function failedRecordsSuite(test: TestApi, options: BackendConformanceOptions): void {
  const { describe, it, expect } = test;
  describe(suiteTitle(options, "failed records"), () => {
    const h = useHarness(test, options);

    it("leaves failed records out of new and stale, and counts them apart", async () => {
      const { graph, raw, embedding } = frameGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(6) as never);
      const inc = await store.resolveUpdate(embedding);
      const { new: rows } = await inc.toArray();
      // f0, f1 crash the model; the rest are computed.
      const bad = rows.filter((r) => r.frame_id === "f0" || r.frame_id === "f1");
      expect(await store.recordFailures(embedding, bad, { error: "OOM", attempts: 3, runId: "run-1" })).toBe(
        2,
      );
      await store.write(embedding, computed(rows.filter((r) => !bad.includes(r))) as never);

      const next = await store.resolveUpdate(embedding);
      expect(await next.counts()).toEqual({ new: 0, stale: 0, orphaned: 0, failed: 2 });
      const arrays = await next.toArray();
      expect(idsOf(arrays.failed, "frame_id")).toEqual(["f0", "f1"]);
      const staged = await next.stage("failed_case");
      expect(await staged.batchCount(10)).toBe(0);
      await staged.drop();

      const failures: Row[] = [];
      for await (const b of store.failures(embedding)) failures.push(...b);
      expect(idsOf(failures, "frame_id")).toEqual(["f0", "f1"]);
      expect(failures[0]).toMatchObject({ error: "OOM", attempts: 3, run_id: "run-1" });
      expect(typeof failures[0].metaxy_provenance).toBe("string");
    });

    it("brings failed records back with retryFailed, or when their upstream or code version changes", async () => {
      const { graph, raw, embedding } = frameGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(4) as never);
      const { new: rows } = await (await store.resolveUpdate(embedding)).toArray();
      await store.recordFailures(embedding, rows, { error: "bad frame", attempts: 1 });
      expect((await (await store.resolveUpdate(embedding)).counts()).failed).toBe(4);

      const retry = await store.resolveUpdate(embedding, { retryFailed: true });
      expect(await retry.counts()).toEqual({ new: 4, stale: 0, orphaned: 0, failed: 0 });

      // New pixels for f3: its expected provenance changed, so its failure no longer applies.
      await store.write(raw, rawRows(4, (i) => (i === 3 ? "p3-new" : `p${i}`)) as never);
      const after = await (await store.resolveUpdate(embedding)).toArray();
      expect(idsOf(after.new, "frame_id")).toEqual(["f3"]);
      expect(idsOf(after.failed, "frame_id")).toEqual(["f0", "f1", "f2"]);

      // A new code version of the feature changes every provenance: all are new work again.
      const bumped = frameGraph("2");
      const store2 = await h.open(bumped.graph, { backend: store.backend });
      expect(await (await store2.resolveUpdate(bumped.embedding)).counts()).toMatchObject({
        new: 4,
        failed: 0,
      });
    });

    it("a stale record that fails is set aside too, and an aggregation keys failures on its group", async () => {
      const { graph, raw, embedding, cluster } = frameGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(4) as never);
      await store.write(
        embedding,
        computed((await (await store.resolveUpdate(embedding)).toArray()).new) as never,
      );
      await store.write(raw, rawRows(4, (i) => `p${i}-v2`) as never);
      const { stale } = await (await store.resolveUpdate(embedding)).toArray();
      expect(stale.length).toBe(4);
      await store.recordFailures(embedding, stale.slice(0, 1), { error: "x", attempts: 2 });
      expect(await (await store.resolveUpdate(embedding)).counts()).toEqual({
        new: 0,
        stale: 3,
        orphaned: 0,
        failed: 1,
      });

      await store.write(embedding, computed(stale) as never);
      const groups = (await (await store.resolveUpdate(cluster)).toArray()).new;
      expect(idsOf(groups, "video")).toEqual(["v0", "v1"]);
      await store.recordFailures(
        cluster,
        groups.filter((g) => g.video === "v1"),
        { error: "y", attempts: 1 },
      );
      const c = await (await store.resolveUpdate(cluster)).toArray();
      expect(idsOf(c.new, "video")).toEqual(["v0"]);
      expect(idsOf(c.failed, "video")).toEqual(["v1"]);
    });

    it("rejects failures without ids or provenance, naming the feature and column", async () => {
      const { graph, raw, embedding } = frameGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(1) as never);
      await expect(
        store.recordFailures(embedding, [{ frame_id: "f0" }], { error: "e", attempts: 1 }),
      ).rejects.toMatchObject({
        code: "VALIDATION_ERROR",
        details: { feature: "frame/embedding", column: "metaxy_provenance" },
      });
      await expect(
        store.recordFailures(embedding, [{ metaxy_provenance: "x" }], { error: "e", attempts: 1 }),
      ).rejects.toMatchObject({ details: { feature: "frame/embedding", column: "frame_id" } });
      expect(await store.backend.tableExists("metaxy_system__failed__frame__embedding")).toBe(false);
    });
  });
}

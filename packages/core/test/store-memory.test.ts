import { describe, expect, it } from "vitest";
import {
  HashAlgorithmMismatchError,
  MetadataStore,
  memory,
  MetadataSchemaError,
  RootFeatureWithoutSamplesError,
  StoreNotOpenError,
  type IncrementRow,
  type Row,
} from "../src/index.js";
import { videoFeatures } from "../src/testing/index.js";

const rawRows = (n: number, tag = "") =>
  Array.from({ length: n }, (_, i) => ({
    sample_uid: `s${i}`,
    path: `/v/${i}.mp4`,
    metaxy_provenance_by_field: { audio: `a${i}${tag}`, frames: `f${i}` },
  }));

async function materialise(store: MetadataStore, feature: string, extra: (r: Row) => Row) {
  const inc = await store.resolveUpdate(feature);
  const rows: IncrementRow<unknown>[] = [];
  for await (const batch of inc.toProcess({ batchSize: 3 })) for (const r of batch) rows.push(r);
  await store.write(
    feature,
    rows.map((r) => ({
      sample_uid: r.sample_uid,
      metaxy_provenance_by_field: r.metaxy_provenance_by_field,
      ...extra(r),
    })),
  );
  return inc.counts();
}

describe("MetadataStore on memory()", () => {
  it("computes new, then nothing, then only what a change touches", async () => {
    const { graph } = videoFeatures();
    await using store = await MetadataStore.open(memory(), { graph });
    await store.write("video/raw", rawRows(10));
    expect(await materialise(store, "video/transcript", () => ({ text: "t" }))).toEqual({
      new: 10,
      stale: 0,
      orphaned: 0,
      failed: 0,
    });
    expect(await materialise(store, "video/faces", () => ({}))).toEqual({
      new: 10,
      stale: 0,
      orphaned: 0,
      failed: 0,
    });
    expect(await (await store.resolveUpdate("video/transcript")).counts()).toEqual({
      new: 0,
      stale: 0,
      orphaned: 0,
      failed: 0,
    });

    // change audio of 3 samples: transcripts stale, faces untouched
    await store.write("video/raw", rawRows(3, "-v2"));
    expect(await (await store.resolveUpdate("video/transcript")).counts()).toEqual({
      new: 0,
      stale: 3,
      orphaned: 0,
      failed: 0,
    });
    expect(await (await store.resolveUpdate("video/faces")).counts()).toEqual({
      new: 0,
      stale: 0,
      orphaned: 0,
      failed: 0,
    });

    // soft-delete a raw sample: its transcript is orphaned
    await store.delete("video/raw", "sample_uid = 's9'");
    const inc = await store.resolveUpdate("video/transcript");
    const all = await inc.toArray();
    expect(all.orphaned.map((r) => r.sample_uid)).toEqual(["s9"]);
    expect(await store.count("video/raw")).toBe(9);
  });

  it("a code version bump hides old rows: everything is new for that feature only", async () => {
    const backend = memory();
    const v1 = videoFeatures({ audioCodeVersion: "1" });
    {
      await using store = await MetadataStore.open(backend, { graph: v1.graph });
      await store.write("video/raw", rawRows(4));
      await materialise(store, "video/transcript", () => ({ text: "t" }));
      await materialise(store, "video/faces", () => ({}));
    }
    const v2 = videoFeatures({ audioCodeVersion: "2" });
    expect(v2.graph.featureVersion("video/faces")).toBe(v1.graph.featureVersion("video/faces"));
    expect(v2.graph.featureVersion("video/transcript")).not.toBe(v1.graph.featureVersion("video/transcript"));
    await using store = await MetadataStore.open(backend, { graph: v2.graph });
    // the root's version changed: its rows must be rewritten under the new version
    await store.write("video/raw", rawRows(4));
    expect(await (await store.resolveUpdate("video/transcript")).counts()).toEqual({
      new: 4,
      stale: 0,
      orphaned: 0,
      failed: 0,
    });
    expect(await (await store.resolveUpdate("video/faces")).counts()).toEqual({
      new: 0,
      stale: 0,
      orphaned: 0,
      failed: 0,
    });
  });

  it("reads the latest row per id, filters after dedup, selects columns", async () => {
    const { graph } = videoFeatures();
    await using store = await MetadataStore.open(memory(), { graph });
    await store.write("video/raw", rawRows(3));
    await store.write("video/raw", [
      { sample_uid: "s1", path: "/new", metaxy_provenance_by_field: { audio: "x", frames: "y" } },
    ]);
    const rows = await store.read("video/raw", { filters: "path = '/v/1.mp4'" });
    expect(rows).toEqual([]);
    const latest = await store.read("video/raw", {
      filters: ["sample_uid = 's1'"],
      columns: ["sample_uid", "path"],
    });
    expect(latest).toEqual([{ sample_uid: "s1", path: "/new" }]);
    const history = await store.read("video/raw", { withSampleHistory: true });
    expect(history).toHaveLength(4);
    expect(history[0].metaxy_provenance).toMatch(/^\d{1,8}$/);
  });

  it("rejects bad writes with typed errors and stores nothing", async () => {
    const { graph } = videoFeatures();
    await using store = await MetadataStore.open(memory(), { graph });
    const bad = [...rawRows(2), { sample_uid: "s2", path: "/x" }] as any;
    await expect(store.write("video/raw", bad)).rejects.toBeInstanceOf(MetadataSchemaError);
    await expect(
      store.write("video/raw", [
        { sample_uid: "s", path: 1, metaxy_provenance_by_field: { audio: "a", frames: "f" } },
      ] as any),
    ).rejects.toThrow(/column "path"/);
    await expect(
      store.write("video/raw", [
        { sample_uid: "s", path: "p", metaxy_provenance_by_field: { audio: "a" } },
      ] as any),
    ).rejects.toMatchObject({ code: "METADATA_SCHEMA_ERROR", details: { field: "frames" } });
    expect(await store.hasFeature("video/raw")).toBe(false);
    await expect(store.resolveUpdate("video/raw")).rejects.toBeInstanceOf(RootFeatureWithoutSamplesError);
  });

  it("read-only stores refuse writes; closed stores refuse everything", async () => {
    const { graph } = videoFeatures();
    const store = await MetadataStore.open(memory(), { graph, mode: "r" });
    await expect(store.write("video/raw", rawRows(1))).rejects.toBeInstanceOf(StoreNotOpenError);
    await store.close();
    await expect(store.read("video/raw")).rejects.toBeInstanceOf(StoreNotOpenError);
  });

  it("streams reads in readBatchSize batches by default and rejects a bad readBatchSize", async () => {
    const { graph } = videoFeatures();
    await using store = await MetadataStore.open(memory(), { graph, readBatchSize: 3 });
    await store.write("video/raw", rawRows(7));
    const sizes: number[] = [];
    for await (const batch of store.readBatches("video/raw")) sizes.push(batch.length);
    expect(sizes).toEqual([3, 3, 1]);
    for (const readBatchSize of [0, 1.5])
      await expect(MetadataStore.open(memory(), { graph, readBatchSize })).rejects.toMatchObject({
        code: "VALIDATION_ERROR",
        details: { readBatchSize },
      });
  });

  it("resolves a root feature from samples", async () => {
    const { graph } = videoFeatures();
    await using store = await MetadataStore.open(memory(), { graph });
    await store.write("video/raw", rawRows(2));
    const inc = await store.resolveUpdate("video/raw", { samples: rawRows(3, "") });
    expect(await inc.counts()).toEqual({ new: 1, stale: 0, orphaned: 0, failed: 0 });
  });

  it("refuses a store whose rows were hashed with another algorithm, naming both", async () => {
    const { graph } = videoFeatures();
    const backend = memory();
    const writer = await MetadataStore.open(backend, { graph, hashAlgorithm: "xxhash32" });
    await writer.write("video/raw", rawRows(3));
    const reader = await MetadataStore.open(backend, { graph, hashAlgorithm: "md5" });
    const error = await reader.resolveUpdate("video/raw", { samples: rawRows(3) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HashAlgorithmMismatchError);
    expect((error as Error).message).toMatch(/"xxhash32".*"md5"/);
    const same = await MetadataStore.open(backend, { graph, hashAlgorithm: "xxhash32" });
    const inc = await same.resolveUpdate("video/raw", { samples: rawRows(3) });
    expect(await inc.counts()).toEqual({ new: 0, stale: 0, orphaned: 0, failed: 0 });
  });

  it("pushes graph snapshots and lists history", async () => {
    const { graph } = videoFeatures();
    await using store = await MetadataStore.open(memory(), { graph });
    const first = await store.pushGraphSnapshot();
    expect(first.alreadyPushed).toBe(false);
    const again = await store.pushGraphSnapshot();
    expect(again).toEqual({ projectVersion: first.projectVersion, alreadyPushed: true, updatedFeatures: [] });
    const history = await store.graphSnapshots();
    expect(history).toEqual([
      { projectVersion: first.projectVersion, recordedAt: expect.any(Date), featureCount: 4 },
    ]);
    const restored = await store.loadGraphSnapshot(first.projectVersion);
    expect(restored.featureVersion("video/transcript")).toBe(graph.featureVersion("video/transcript"));
  });

  it("stages an increment and pages it by batch number", async () => {
    const { graph } = videoFeatures();
    await using store = await MetadataStore.open(memory(), { graph });
    await store.write("video/raw", rawRows(7));
    const staged = await (await store.resolveUpdate("video/transcript")).stage("wf-1/video/transcript");
    expect(await staged.batchCount(3)).toBe(3);
    const again = await store.openStagedIncrement("wf-1/video/transcript");
    const seen = [];
    for (let b = 0; b < 3; b++) seen.push(...(await again.batch(b, 3)));
    expect(seen.map((r) => r.sample_uid).sort()).toEqual(
      rawRows(7)
        .map((r) => r.sample_uid)
        .sort(),
    );
  });
});

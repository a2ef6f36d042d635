import { type Row, isIn } from "@metaxy/core";
import { videoGraph } from "../fixtures/graphs.js";
import { rawRow, rawRows } from "../fixtures/rows.js";
import { type BackendConformanceOptions, idsOf, readSorted, suiteTitle, useHarness } from "../harness.js";
import type { TestApi } from "../test-api.js";

export function deleteSuite(test: TestApi, options: BackendConformanceOptions): void {
  const { describe, it, expect } = test;
  describe(suiteTitle(options, "delete"), () => {
    const h = useHarness(test, options);

    it("soft delete hides samples; a later write brings them back", async () => {
      const { graph, raw } = videoGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(4));
      const [stored] = await store.read(raw, { filters: "sample_uid = 's1'" });

      const before = Date.now();
      expect(await store.delete(raw, "sample_uid = 's1'")).toBe(1);
      expect(idsOf(await store.read(raw), "sample_uid")).toEqual(["s0", "s2", "s3"]);
      expect(await store.count(raw)).toBe(3);
      expect(await store.read(raw, { filters: "sample_uid = 's1'" })).toEqual([]);

      // the tombstone is the latest row of s1: same provenance and timestamps, deleted_at set
      const [tombstone] = await store.read(raw, { includeSoftDeleted: true, filters: "sample_uid = 's1'" });
      expect(tombstone.metaxy_deleted_at).toBeInstanceOf(Date);
      expect((tombstone.metaxy_deleted_at as Date).getTime()).toBeGreaterThanOrEqual(before);
      expect(tombstone.metaxy_provenance).toBe(stored.metaxy_provenance);
      expect(tombstone.path).toBe("/v/1.mp4");
      expect((tombstone.metaxy_updated_at as Date).getTime()).toBe(
        (stored.metaxy_updated_at as Date).getTime(),
      );
      expect((tombstone.metaxy_created_at as Date).getTime()).toBe(
        (stored.metaxy_created_at as Date).getTime(),
      );
      expect(await store.count(raw, { includeSoftDeleted: true })).toBe(4);
      // history without tombstones: the original live row of s1 is still there
      expect(idsOf(await store.read(raw, { withSampleHistory: true }), "sample_uid")).toEqual([
        "s0",
        "s1",
        "s2",
        "s3",
      ]);
      expect(await store.count(raw, { withSampleHistory: true, includeSoftDeleted: true })).toBe(5);

      // deleting again finds nothing live to delete
      expect(await store.delete(raw, "sample_uid = 's1'")).toBe(0);

      await store.write(raw, [{ ...rawRow(1, "-back"), path: "/back" }]);
      const back = await readSorted(store, raw, "sample_uid");
      expect(back.map((r) => [r.sample_uid, r.path, r.metaxy_deleted_at])).toEqual([
        ["s0", "/v/0.mp4", null],
        ["s1", "/back", null],
        ["s2", "/v/2.mp4", null],
        ["s3", "/v/3.mp4", null],
      ]);
      expect((back[1].metaxy_provenance_by_field as Row).audio).toBe("a1-back");
    });

    it("soft delete takes filters (strings or expressions) and deletes everything without them", async () => {
      const { graph, raw } = videoGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(5));
      expect(await store.delete(raw, ["duration > 1", "duration < 3"])).toBe(2); // s1, s2
      expect(idsOf(await store.read(raw), "sample_uid")).toEqual(["s0", "s3", "s4"]);
      expect(await store.delete(raw, isIn("sample_uid", ["s0", "s4", "s9"]))).toBe(2);
      expect(idsOf(await store.read(raw), "sample_uid")).toEqual(["s3"]);
      expect(await store.delete(raw, null)).toBe(1);
      expect(await store.count(raw)).toBe(0);
      expect(await store.delete(raw, null)).toBe(0);
      // a feature never written: nothing to delete, no error
      expect(await store.delete("video/transcript", null)).toBe(0);
    });

    it("hard delete removes rows of the current feature version only, unless withFeatureHistory", async () => {
      const { graph, raw } = videoGraph();
      const old = videoGraph({ audioCodeVersion: "0" }).graph;
      const oldVersion = old.featureVersion(raw.key);
      const store = await h.open(graph);
      await store.write(
        raw,
        [rawRow(0, "-old"), rawRow(1, "-old")].map((r) => ({
          ...r,
          metaxy_feature_version: oldVersion,
          metaxy_project_version: old.projectVersion(),
        })),
        { preserveFeatureVersion: true },
      );
      await store.write(raw, [rawRow(1), rawRow(2)]);
      await store.write(raw, [rawRow(1, "-v2")]);

      // physical rows: every history row of the current version
      expect(await store.delete(raw, null, { soft: false })).toBe(3);
      expect(await store.read(raw)).toEqual([]);
      expect(await store.count(raw, { withFeatureHistory: true, withSampleHistory: true })).toBe(2);
      const left = await readSorted(store, raw, "sample_uid", { withFeatureHistory: true });
      expect(left.map((r) => [r.sample_uid, (r.metaxy_provenance_by_field as Row).audio])).toEqual([
        ["s0", "a0-old"],
        ["s1", "a1-old"],
      ]);

      expect(await store.delete(raw, "sample_uid = 's0'", { soft: false, withFeatureHistory: true })).toBe(1);
      expect(idsOf(await store.read(raw, { withFeatureHistory: true }), "sample_uid")).toEqual(["s1"]);
      expect(await store.delete(raw, null, { soft: false, withFeatureHistory: true })).toBe(1);
      expect(await store.count(raw, { withFeatureHistory: true, withSampleHistory: true })).toBe(0);
    });

    it("hard delete with filters removes exactly the matching rows, tombstones included", async () => {
      const { graph, raw } = videoGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(4));
      await store.write(raw, [rawRow(2, "-v2")]);
      await store.delete(raw, "sample_uid = 's3'");
      expect(await store.count(raw, { withSampleHistory: true, includeSoftDeleted: true })).toBe(6);

      expect(await store.delete(raw, "sample_uid IN ('s0', 's2')", { soft: false })).toBe(3);
      expect(idsOf(await store.read(raw), "sample_uid")).toEqual(["s1"]);
      // removing the tombstone physically revives the live row underneath it
      expect(await store.delete(raw, "metaxy_deleted_at IS NOT NULL", { soft: false })).toBe(1);
      expect(idsOf(await store.read(raw), "sample_uid")).toEqual(["s1", "s3"]);
      expect(await store.delete("video/transcript", null, { soft: false })).toBe(0);
    });
  });
}

import { type Row, SYSTEM_COLUMNS } from "@metaxy/core";
import { videoGraph } from "../fixtures/graphs.js";
import { collect, rawRow, rawRows, recordHash } from "../fixtures/rows.js";
import { type BackendConformanceOptions, idsOf, readSorted, suiteTitle, useHarness } from "../harness.js";
import type { TestApi } from "../test-api.js";

const RAW_COLUMNS = [...SYSTEM_COLUMNS, "duration", "path", "sample_uid"].sort();

export function writeReadSuite(test: TestApi, options: BackendConformanceOptions): void {
  const { describe, it, expect } = test;
  describe(suiteTitle(options, "write and read"), () => {
    const h = useHarness(test, options);

    it("fills every system column on write", async () => {
      const { graph, raw } = videoGraph();
      const store = await h.open(graph, { materializationId: "run-1" });
      const algo = store.hashAlgorithm;
      const before = Date.now();
      expect(await store.write(raw, rawRows(3))).toBe(3);
      const createdAt = new Date("2020-01-02T03:04:05.678Z");
      expect(
        await store.write(raw, [{ ...rawRow(3), metaxy_created_at: createdAt }], {
          materializationId: "run-2",
        }),
      ).toBe(1);
      const after = Date.now();

      const rows = await readSorted(store, raw, "sample_uid");
      expect(rows.map((r) => r.sample_uid)).toEqual(["s0", "s1", "s2", "s3"]);
      for (const [i, r] of rows.entries()) {
        const byField = { audio: `a${i}`, frames: `f${i}` };
        expect(Object.keys(r).sort()).toEqual(RAW_COLUMNS);
        expect(r.path).toBe(`/v/${i}.mp4`);
        expect(r.duration).toBe(i + 0.5);
        expect(r.metaxy_provenance_by_field).toEqual(byField);
        expect(r.metaxy_provenance).toBe(recordHash(algo, byField));
        expect(r.metaxy_data_version_by_field).toEqual(byField);
        expect(r.metaxy_data_version).toBe(r.metaxy_provenance);
        expect(r.metaxy_feature_version).toBe(graph.featureVersion(raw));
        expect(r.metaxy_project_version).toBe(graph.projectVersion());
        expect(r.metaxy_deleted_at).toBeNull();
        expect(r.metaxy_materialization_id).toBe(i === 3 ? "run-2" : "run-1");
        expect(r.metaxy_created_at).toBeInstanceOf(Date);
        expect(r.metaxy_updated_at).toBeInstanceOf(Date);
        const updated = (r.metaxy_updated_at as Date).getTime();
        expect(updated).toBeGreaterThanOrEqual(before);
        expect(updated).toBeLessThanOrEqual(after);
        if (i < 3) expect((r.metaxy_created_at as Date).getTime()).toBe(updated);
      }
      // a supplied created_at is kept; updated_at is always the write's timestamp
      expect((rows[3].metaxy_created_at as Date).toISOString()).toBe(createdAt.toISOString());
      expect((rows[3].metaxy_updated_at as Date).getTime()).toBeGreaterThan(
        (rows[0].metaxy_updated_at as Date).getTime(),
      );
    });

    it("keeps the latest row per id; withSampleHistory returns every row", async () => {
      const { graph, raw } = videoGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(3));
      await store.write(raw, [{ ...rawRow(1, "-v2"), path: "/new" }]);
      await store.write(raw, [{ ...rawRow(1, "-v3"), path: "/newer" }]);

      const latest = await readSorted(store, raw, "sample_uid");
      expect(latest.map((r) => [r.sample_uid, r.path, (r.metaxy_provenance_by_field as Row).audio])).toEqual([
        ["s0", "/v/0.mp4", "a0"],
        ["s1", "/newer", "a1-v3"],
        ["s2", "/v/2.mp4", "a2"],
      ]);
      const history = await readSorted(store, raw, ["sample_uid", "path"], { withSampleHistory: true });
      expect(history.map((r) => [r.sample_uid, r.path])).toEqual([
        ["s0", "/v/0.mp4"],
        ["s1", "/new"],
        ["s1", "/newer"],
        ["s1", "/v/1.mp4"],
        ["s2", "/v/2.mp4"],
      ]);
      expect(await store.count(raw)).toBe(3);
      expect(await store.count(raw, { withSampleHistory: true })).toBe(5);
    });

    it("orders an id's rows by coalesce(deleted_at, updated_at), the later append winning a tie", async () => {
      const { graph, raw, transcript } = videoGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(4));
      const [written] = await store.read(raw, { filters: "sample_uid = 's0'" });
      const writtenAt = written.metaxy_updated_at as Date;
      // Rows carrying their own deleted_at: s0 ties with its first row, s1 sorts before it, s2
      // after it; s3 gets two rows with the same deleted_at.
      const later = new Date(writtenAt.getTime() + 3_600_000);
      await store.write(raw, [
        { ...rawRow(0), path: "/tie", metaxy_deleted_at: writtenAt },
        { ...rawRow(1), path: "/older", metaxy_deleted_at: new Date(writtenAt.getTime() - 3_600_000) },
        { ...rawRow(2), path: "/newer", metaxy_deleted_at: later },
        { ...rawRow(3), path: "/first", metaxy_deleted_at: later },
      ]);
      await store.write(raw, [{ ...rawRow(3), path: "/second", metaxy_deleted_at: later }]);
      // s2's deleted_at is still ahead of a live row written now
      await store.write(raw, [{ ...rawRow(2), path: "/live" }]);

      const latest = await readSorted(store, raw, "sample_uid", { includeSoftDeleted: true });
      expect(latest.map((r) => [r.sample_uid, r.path])).toEqual([
        ["s0", "/tie"],
        ["s1", "/v/1.mp4"],
        ["s2", "/newer"],
        ["s3", "/second"],
      ]);
      expect(idsOf(await store.read(raw), "sample_uid")).toEqual(["s1"]);
      expect(await store.count(raw)).toBe(1);
      // resolveUpdate reads upstreams the same way
      const inc = await collect(await store.resolveUpdate(transcript));
      expect(idsOf(inc.new, "sample_uid")).toEqual(["s1"]);
    });

    it("applies filters after dedup, and selects exactly the requested columns", async () => {
      const { graph, raw } = videoGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(3));
      await store.write(raw, [{ ...rawRow(1), path: "/new" }]);

      // s1's older row matches, but its latest does not: excluded
      expect(await store.read(raw, { filters: "path = '/v/1.mp4'" })).toEqual([]);
      expect(await store.count(raw, { filters: "path = '/v/1.mp4'" })).toBe(0);
      expect(idsOf(await store.read(raw, { filters: "path = '/new'" }), "sample_uid")).toEqual(["s1"]);
      expect(
        idsOf(await store.read(raw, { filters: "path = '/v/1.mp4'", withSampleHistory: true }), "sample_uid"),
      ).toEqual(["s1"]);
      // several filters are ANDed; filter strings and parsed expressions mix
      expect(
        idsOf(await store.read(raw, { filters: ["duration > 0.7", "sample_uid != 's2'"] }), "sample_uid"),
      ).toEqual(["s1"]);
      expect(await store.count(raw, { filters: "duration >= 1.5" })).toBe(2);

      expect(await readSorted(store, raw, "sample_uid", { columns: ["sample_uid", "path"] })).toEqual([
        { sample_uid: "s0", path: "/v/0.mp4" },
        { sample_uid: "s1", path: "/new" },
        { sample_uid: "s2", path: "/v/2.mp4" },
      ]);
      // a filter may read a column that is not selected
      expect(
        await readSorted(store, raw, "sample_uid", { columns: ["sample_uid"], filters: "duration > 1" }),
      ).toEqual([{ sample_uid: "s1" }, { sample_uid: "s2" }]);
      expect(
        await readSorted(store, raw, "sample_uid", { columns: ["sample_uid", "metaxy_provenance"] }),
      ).toEqual(
        [0, 1, 2].map((i) => ({
          sample_uid: `s${i}`,
          metaxy_provenance: recordHash(store.hashAlgorithm, { audio: `a${i}`, frames: `f${i}` }),
        })),
      );
    });

    it("reads other feature versions only with withFeatureHistory / featureVersion", async () => {
      const { graph, raw } = videoGraph();
      const old = videoGraph({ audioCodeVersion: "0" }).graph;
      const oldVersion = old.featureVersion("video/raw");
      expect(oldVersion).not.toBe(graph.featureVersion(raw));
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

      const audio = (rows: Row[]) =>
        rows.map((r) => [
          r.sample_uid,
          (r.metaxy_provenance_by_field as Row).audio,
          r.metaxy_feature_version,
        ]);
      const current = graph.featureVersion(raw);
      expect(audio(await readSorted(store, raw, "sample_uid"))).toEqual([
        ["s1", "a1", current],
        ["s2", "a2", current],
      ]);
      expect(audio(await readSorted(store, raw, "sample_uid", { withFeatureHistory: true }))).toEqual([
        ["s0", "a0-old", oldVersion],
        ["s1", "a1", current],
        ["s2", "a2", current],
      ]);
      const oldRows = [
        ["s0", "a0-old", oldVersion],
        ["s1", "a1-old", oldVersion],
      ];
      expect(audio(await readSorted(store, raw, "sample_uid", { featureVersion: oldVersion }))).toEqual(
        oldRows,
      );
      expect(
        audio(
          await readSorted(store, raw, "sample_uid", {
            featureVersion: oldVersion,
            withFeatureHistory: true,
          }),
        ),
      ).toEqual(oldRows);
      expect(
        await store.count(raw, {
          withFeatureHistory: true,
          withSampleHistory: true,
          filters: "sample_uid = 's1'",
        }),
      ).toBe(2);
      expect(await store.count(raw, { withFeatureHistory: true })).toBe(3);
      await expect(
        store.read(raw, { featureVersion: oldVersion, withFeatureHistory: false }),
      ).rejects.toMatchObject({ code: "VALIDATION_ERROR" });
    });

    it("adds nothing when a write is retried with the same idempotency key", async () => {
      const { graph, raw } = videoGraph();
      const store = await h.open(graph);
      // a failed attempt does not use up the key
      await expect(
        store.write(raw, [rawRow(0), { ...rawRow(1), path: 1 }], { idempotencyKey: "wf-1/video/raw/0" }),
      ).rejects.toMatchObject({ code: "METADATA_SCHEMA_ERROR" });
      expect(await store.write(raw, rawRows(3), { idempotencyKey: "wf-1/video/raw/0" })).toBe(3);
      expect(await store.write(raw, rawRows(3), { idempotencyKey: "wf-1/video/raw/0" })).toBe(0);
      // the same key with other rows is a conflict, never a silent 0
      await expect(
        store.write(raw, rawRows(3, "-x"), { idempotencyKey: "wf-1/video/raw/0" }),
      ).rejects.toMatchObject({ code: "IDEMPOTENCY_CONFLICT", feature: "video/raw" });
      expect(await store.count(raw, { withSampleHistory: true })).toBe(3);
      expect(await store.write(raw, rawRows(2, "-v2"), { idempotencyKey: "wf-1/video/raw/1" })).toBe(2);
      expect(await store.write(raw, [rawRow(2, "-v2")])).toBe(1);
      expect(await store.write(raw, [rawRow(2, "-v2")])).toBe(1); // no key: appended again
      expect(await store.count(raw, { withSampleHistory: true })).toBe(7);
      const audio = (await readSorted(store, raw, "sample_uid")).map(
        (r) => (r.metaxy_provenance_by_field as Row).audio,
      );
      expect(audio).toEqual(["a0-v2", "a1-v2", "a2-v2"]);
    });

    it("stores nothing from a write that fails validation", async () => {
      const { graph, raw, transcript } = videoGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(2));
      const bad = [rawRow(2), rawRow(3), { ...rawRow(4), path: 7 }];
      await expect(store.write(raw, bad)).rejects.toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
        details: { feature: "video/raw", column: "path", row: 2 },
      });
      expect(await store.count(raw, { withSampleHistory: true })).toBe(2);
      expect(idsOf(await store.read(raw), "sample_uid")).toEqual(["s0", "s1"]);
      // the first write of a feature that fails leaves no table behind either
      await expect(
        store.write(transcript, [
          { sample_uid: "s0", text: "x", metaxy_provenance_by_field: { text: "t" } },
          { sample_uid: "s1", text: 3, metaxy_provenance_by_field: { text: "t" } } as any,
        ]),
      ).rejects.toMatchObject({ code: "METADATA_SCHEMA_ERROR", details: { column: "text", row: 1 } });
      expect(await store.hasFeature(transcript)).toBe(false);
      await expect(store.read(transcript)).rejects.toMatchObject({ code: "FEATURE_NOT_FOUND" });
    });

    it("keeps a user data-version override and recomputes metaxy_data_version from it", async () => {
      const { graph, raw } = videoGraph();
      const store = await h.open(graph);
      const algo = store.hashAlgorithm;
      await store.write(raw, [
        { ...rawRow(0), metaxy_data_version_by_field: { audio: "content-1" } },
        rawRow(1),
        {
          ...rawRow(2),
          metaxy_data_version_by_field: { frames: "content-2" },
          metaxy_data_version: "custom",
        },
      ]);
      const rows = await readSorted(store, raw, "sample_uid");
      const dv = rows.map((r) => [
        r.metaxy_data_version_by_field,
        r.metaxy_data_version,
        r.metaxy_provenance,
      ]);
      expect(dv).toEqual([
        [
          { audio: "content-1", frames: "f0" },
          recordHash(algo, { audio: "content-1", frames: "f0" }),
          recordHash(algo, { audio: "a0", frames: "f0" }),
        ],
        [
          { audio: "a1", frames: "f1" },
          recordHash(algo, { audio: "a1", frames: "f1" }),
          recordHash(algo, { audio: "a1", frames: "f1" }),
        ],
        [{ audio: "a2", frames: "content-2" }, "custom", recordHash(algo, { audio: "a2", frames: "f2" })],
      ]);
      expect(rows[0].metaxy_provenance_by_field).toEqual({ audio: "a0", frames: "f0" });
    });

    it("rejects malformed rows with typed errors naming the column or field", async () => {
      const { graph, raw, faces } = videoGraph();
      const store = await h.open(graph);
      const { metaxy_provenance_by_field: _drop, ...noProvenance } = rawRow(0);
      await expect(store.write(raw, [noProvenance])).rejects.toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
        details: { column: "metaxy_provenance_by_field" },
      });
      await expect(
        store.write(raw, [{ ...rawRow(0), metaxy_provenance_by_field: { audio: "a" } }]),
      ).rejects.toMatchObject({ code: "METADATA_SCHEMA_ERROR", details: { field: "frames" } });
      await expect(store.write(raw, [{ ...rawRow(0), duration: "long" }])).rejects.toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
        details: { column: "duration" },
      });
      await expect(store.write(raw, [{ ...rawRow(0), nope: 1 }])).rejects.toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
        details: { column: "nope" },
      });
      await expect(
        store.write(faces, [{ metaxy_provenance_by_field: { faces: "x" } }]),
      ).rejects.toMatchObject({
        code: "METADATA_SCHEMA_ERROR",
        details: { column: "sample_uid" },
      });
      await expect(store.write("video/nope", rawRows(1))).rejects.toMatchObject({ code: "UNKNOWN_FEATURE" });
      expect(await store.hasFeature(raw)).toBe(false);
      expect(await store.hasFeature(faces)).toBe(false);
      expect(await store.backend.listTables()).toEqual([]);
    });

    it("infers and keeps column types of schemaless features", async () => {
      const { graph, raw, faces } = videoGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(2));
      await store.write(faces, [
        {
          sample_uid: "s0",
          count: 3,
          score: 0.25,
          ok: true,
          label: "x",
          metaxy_provenance_by_field: { faces: "p0" },
        },
        {
          sample_uid: "s1",
          count: 0,
          score: 1.5,
          ok: false,
          label: null,
          metaxy_provenance_by_field: { faces: "p1" },
        },
      ]);
      expect(
        await readSorted(store, faces, "sample_uid", {
          columns: ["sample_uid", "count", "score", "ok", "label"],
        }),
      ).toEqual([
        { sample_uid: "s0", count: 3, score: 0.25, ok: true, label: "x" },
        { sample_uid: "s1", count: 0, score: 1.5, ok: false, label: null },
      ]);
      expect(await store.backend.listTables()).toEqual(["video__faces", "video__raw"]);
      expect((await store.backend.tableColumns("video__raw"))?.slice().sort()).toEqual(RAW_COLUMNS);
      expect(await store.backend.tableColumns("video__nope")).toBeNull();
    });
  });
}

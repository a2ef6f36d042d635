import type { HashAlgorithm, Row } from "@metaxy/core";
import { collisionGraph, docsGraph, videoGraph } from "../fixtures/graphs.js";
import {
  collect,
  fieldHash,
  materialise,
  provenanceColumns,
  rawRow,
  rawRows,
  recordHash,
} from "../fixtures/rows.js";
import { type BackendConformanceOptions, idsOf, sortRows, suiteTitle, useHarness } from "../harness.js";
import type { TestApi } from "../test-api.js";

const PROVENANCE_KEYS = [
  "metaxy_data_version",
  "metaxy_data_version_by_field",
  "metaxy_provenance",
  "metaxy_provenance_by_field",
];

/** Expected provenance columns of video/transcript for audio data version `audio`. */
function transcriptProvenance(algo: HashAlgorithm, audio: string): Row {
  return provenanceColumns(algo, { text: fieldHash(algo, "text", "1", [["video/raw.audio", audio]]) });
}

function pick(rows: readonly Row[], columns: readonly string[]): Row[] {
  return rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c]])));
}

export function resolveUpdateSuite(test: TestApi, options: BackendConformanceOptions): void {
  const { describe, it, expect } = test;
  describe(suiteTitle(options, "resolveUpdate"), () => {
    const h = useHarness(test, options);

    it("reports exactly the new, stale and orphaned ids with their provenance", async () => {
      const { graph, raw, transcript } = videoGraph();
      const store = await h.open(graph);
      const algo = store.hashAlgorithm;
      await store.write(raw, rawRows(5));
      await store.write(transcript, [
        {
          sample_uid: "s0",
          text: "t0",
          metaxy_provenance_by_field: transcriptProvenance(algo, "a0").metaxy_provenance_by_field,
        },
        {
          sample_uid: "s1",
          text: "t1",
          metaxy_provenance_by_field: transcriptProvenance(algo, "a1").metaxy_provenance_by_field,
        },
        { sample_uid: "s2", text: "t2", metaxy_provenance_by_field: { text: "outdated" } },
        { sample_uid: "s9", text: "t9", metaxy_provenance_by_field: { text: "gone" } },
      ]);

      const increment = await store.resolveUpdate(transcript);
      expect(await increment.counts()).toEqual({ new: 2, stale: 1, orphaned: 1, failed: 0 });
      expect(await increment.isEmpty()).toBe(false);
      const inc = await collect(increment);
      const cols = ["sample_uid", "path", ...PROVENANCE_KEYS];
      expect(pick(sortRows(inc.new, "sample_uid"), cols)).toEqual(
        [3, 4].map((i) => ({
          sample_uid: `s${i}`,
          path: `/v/${i}.mp4`,
          ...transcriptProvenance(algo, `a${i}`),
        })),
      );
      // stale rows carry the NEW provenance
      expect(pick(inc.stale, cols)).toEqual([
        { sample_uid: "s2", path: "/v/2.mp4", ...transcriptProvenance(algo, "a2") },
      ]);
      // orphaned rows are the stored rows
      expect(
        pick(inc.orphaned, ["sample_uid", "text", "metaxy_provenance", "metaxy_provenance_by_field"]),
      ).toEqual([
        {
          sample_uid: "s9",
          text: "t9",
          metaxy_provenance: recordHash(algo, { text: "gone" }),
          metaxy_provenance_by_field: { text: "gone" },
        },
      ]);
      // the increment keeps upstream user columns (select = all) but none of the upstream system columns
      expect(Object.keys(inc.new[0]).sort()).toEqual(
        ["duration", "path", "sample_uid", ...PROVENANCE_KEYS].sort(),
      );
    });

    it("is empty once everything is materialised", async () => {
      const { graph, raw, transcript, faces } = videoGraph();
      const store = await h.open(graph);
      await store.write(raw, rawRows(6));
      const first = await materialise(store, "video/transcript", ["sample_uid"], (r) => ({
        text: `t-${r.sample_uid}`,
      }));
      expect([first.new.length, first.stale.length, first.orphaned.length]).toEqual([6, 0, 0]);
      await materialise(store, "video/faces", ["sample_uid"]);
      for (const f of [transcript, faces]) {
        const inc = await store.resolveUpdate(f);
        expect(await inc.counts()).toEqual({ new: 0, stale: 0, orphaned: 0, failed: 0 });
        expect(await inc.isEmpty()).toBe(true);
        expect(await collect(inc)).toEqual({ new: [], stale: [], orphaned: [] });
      }
    });

    it("marks stale exactly the dependents of the changed field", async () => {
      const { graph, raw, transcript, faces } = videoGraph();
      const store = await h.open(graph);
      const algo = store.hashAlgorithm;
      await store.write(raw, rawRows(6));
      await materialise(store, "video/transcript", ["sample_uid"], () => ({ text: "t" }));
      await materialise(store, "video/faces", ["sample_uid"]);

      // audio of s1 and s4 changes; frames of s2 changes
      await store.write(raw, [rawRow(1, "-v2"), rawRow(4, "-v2")]);
      await store.write(raw, [
        { ...rawRow(2), metaxy_provenance_by_field: { audio: "a2", frames: "f2-v2" } },
      ]);

      const t = await collect(await store.resolveUpdate(transcript));
      expect(idsOf(t.stale, "sample_uid")).toEqual(["s1", "s4"]);
      expect([t.new, t.orphaned]).toEqual([[], []]);
      expect(sortRows(t.stale, "sample_uid").map((r) => r.metaxy_provenance)).toEqual([
        transcriptProvenance(algo, "a1-v2").metaxy_provenance,
        transcriptProvenance(algo, "a4-v2").metaxy_provenance,
      ]);
      const f = await collect(await store.resolveUpdate(faces));
      expect(idsOf(f.stale, "sample_uid")).toEqual(["s2"]);
      expect(f.stale[0].metaxy_provenance_by_field).toEqual({
        faces: fieldHash(algo, "faces", "1", [["video/raw.frames", "f2-v2"]]),
      });
      expect([f.new, f.orphaned]).toEqual([[], []]);
    });

    it("hashes upstream data versions: an unchanged override stops propagation", async () => {
      const { graph, raw, transcript } = videoGraph();
      const store = await h.open(graph);
      const algo = store.hashAlgorithm;
      await store.write(raw, [
        { ...rawRow(0), metaxy_data_version_by_field: { audio: "content-1" } },
        rawRow(1),
      ]);
      const first = await materialise(store, "video/transcript", ["sample_uid"], () => ({ text: "t" }));
      expect(pick(sortRows(first.new, "sample_uid"), ["sample_uid", ...PROVENANCE_KEYS])).toEqual([
        { sample_uid: "s0", ...transcriptProvenance(algo, "content-1") },
        { sample_uid: "s1", ...transcriptProvenance(algo, "a1") },
      ]);

      // new provenance, same content: nothing to recompute downstream
      await store.write(raw, [{ ...rawRow(0, "-v2"), metaxy_data_version_by_field: { audio: "content-1" } }]);
      expect(await (await store.resolveUpdate(transcript)).counts()).toEqual({
        new: 0,
        stale: 0,
        orphaned: 0,
        failed: 0,
      });
      await store.write(raw, [{ ...rawRow(0, "-v3"), metaxy_data_version_by_field: { audio: "content-2" } }]);
      const inc = await collect(await store.resolveUpdate(transcript));
      expect(pick(inc.stale, ["sample_uid", ...PROVENANCE_KEYS])).toEqual([
        { sample_uid: "s0", ...transcriptProvenance(algo, "content-2") },
      ]);
    });

    it("ignores upstream rows of another feature version", async () => {
      const { graph, raw, transcript } = videoGraph();
      const old = videoGraph({ audioCodeVersion: "0" }).graph;
      const store = await h.open(graph);
      await store.write(
        raw,
        rawRows(3).map((r) => ({
          ...r,
          metaxy_feature_version: old.featureVersion(raw.key),
          metaxy_project_version: old.projectVersion(),
        })),
        { preserveFeatureVersion: true },
      );
      await store.write(transcript, [
        { sample_uid: "s0", text: "t", metaxy_provenance_by_field: { text: "x" } },
      ]);
      const inc = await collect(await store.resolveUpdate(transcript));
      expect([inc.new, inc.stale]).toEqual([[], []]);
      expect(idsOf(inc.orphaned, "sample_uid")).toEqual(["s0"]);
    });

    it("applies rename, then the dependency's filters (post-rename names), then select", async () => {
      const { graph, page, summary } = docsGraph();
      const store = await h.open(graph);
      const algo = store.hashAlgorithm;
      await store.write(page, pages());
      const inc = await collect(await store.resolveUpdate(summary));
      expect(sortRows(inc.new, "page_id")).toEqual(
        ["p0", "p2", "p3"].map((id) => ({
          page_id: id,
          language: "en",
          ...provenanceColumns(algo, {
            summary: fieldHash(algo, "summary", "1", [["docs/page.text", `text-${id}`]]),
          }),
        })),
      );
      expect([inc.stale, inc.orphaned]).toEqual([[], []]);
    });

    it("applies runtime filters, globalFilters and targetFilters", async () => {
      const { graph, page, summary } = docsGraph();
      const store = await h.open(graph);
      await store.write(page, pages());
      // runtime filters on the upstream see stored column names
      const filtered = await collect(
        await store.resolveUpdate(summary, { filters: { "docs/page": "score > 5" } }),
      );
      expect(idsOf(filtered.new, "page_id")).toEqual(["p2", "p3"]);

      await materialise(store, "docs/summary", ["page_id"], (r) => ({ language: r.language }));
      const none = { new: 0, stale: 0, orphaned: 0, failed: 0 };
      expect(await (await store.resolveUpdate(summary)).counts()).toEqual(none);
      // global filters restrict the upstream and the target alike
      expect(
        await (await store.resolveUpdate(summary, { globalFilters: "page_id != 'p0'" })).counts(),
      ).toEqual(none);
      // filtered out of the current rows only: shows up as new
      const target = await collect(
        await store.resolveUpdate(summary, { targetFilters: ["page_id != 'p0'"] }),
      );
      expect(idsOf(target.new, "page_id")).toEqual(["p0"]);
      expect([target.stale, target.orphaned]).toEqual([[], []]);
      const keyed = await collect(
        await store.resolveUpdate(summary, { filters: { "docs/summary": "page_id = 'p3'" } }),
      );
      expect(idsOf(keyed.new, "page_id")).toEqual(["p0", "p2"]);
      // filtered out of the upstream only: shows up as orphaned
      const up = await collect(
        await store.resolveUpdate(summary, { filters: { "docs/page": "page_id != 'p2'" } }),
      );
      expect(idsOf(up.orphaned, "page_id")).toEqual(["p2"]);
      expect([up.new, up.stale]).toEqual([[], []]);
    });

    it("marks stored rows matching a staleness predicate stale whatever their provenance", async () => {
      const { graph, raw, transcript } = videoGraph();
      const store = await h.open(graph);
      const algo = store.hashAlgorithm;
      await store.write(raw, rawRows(4));
      await materialise(store, "video/transcript", ["sample_uid"], (r) => ({
        text: r.sample_uid === "s1" ? "bad" : "ok",
      }));
      const one = await collect(
        await store.resolveUpdate(transcript, { stalenessPredicates: "text = 'bad'" }),
      );
      expect(pick(one.stale, ["sample_uid", "metaxy_provenance"])).toEqual([
        { sample_uid: "s1", metaxy_provenance: transcriptProvenance(algo, "a1").metaxy_provenance },
      ]);
      expect([one.new, one.orphaned]).toEqual([[], []]);
      const two = await collect(
        await store.resolveUpdate(transcript, { stalenessPredicates: ["text = 'bad'", "sample_uid = 's3'"] }),
      );
      expect(idsOf(two.stale, "sample_uid")).toEqual(["s1", "s3"]);
    });

    it("resolves a root feature from samples (provenance recomputed, target filters applied)", async () => {
      const { graph, raw } = videoGraph();
      const store = await h.open(graph);
      const algo = store.hashAlgorithm;
      await store.write(raw, rawRows(3));
      await expect(store.resolveUpdate(raw)).rejects.toMatchObject({ code: "ROOT_FEATURE_WITHOUT_SAMPLES" });
      const samples = [
        { ...rawRow(1), metaxy_provenance: "bogus" },
        rawRow(2, "-v2"),
        rawRow(3),
        { ...rawRow(4), metaxy_data_version_by_field: { audio: "c4", frames: "f4" } },
      ];
      const inc = await collect(await store.resolveUpdate(raw, { samples }));
      const cols = ["sample_uid", ...PROVENANCE_KEYS];
      expect(pick(sortRows(inc.new, "sample_uid"), cols)).toEqual([
        { sample_uid: "s3", ...provenanceColumns(algo, { audio: "a3", frames: "f3" }) },
        {
          sample_uid: "s4",
          metaxy_provenance_by_field: { audio: "a4", frames: "f4" },
          metaxy_provenance: recordHash(algo, { audio: "a4", frames: "f4" }),
          metaxy_data_version_by_field: { audio: "c4", frames: "f4" },
          metaxy_data_version: recordHash(algo, { audio: "c4", frames: "f4" }),
        },
      ]);
      expect(pick(inc.stale, cols)).toEqual([
        { sample_uid: "s2", ...provenanceColumns(algo, { audio: "a2-v2", frames: "f2" }) },
      ]);
      expect(idsOf(inc.orphaned, "sample_uid")).toEqual(["s0"]);

      const filtered = await collect(
        await store.resolveUpdate(raw, { samples, targetFilters: "sample_uid NOT IN ('s0', 's3')" }),
      );
      expect(idsOf(filtered.new, "sample_uid")).toEqual(["s4"]);
      expect(idsOf(filtered.stale, "sample_uid")).toEqual(["s2"]);
      expect(filtered.orphaned).toEqual([]);
      const progress = await store.resolveUpdate(raw, { samples });
      expect(await progress.progress()).toBeNull();
      await progress.dispose();
    });

    it("skipComparison reports every expected row as new", async () => {
      const { graph, raw, transcript } = videoGraph();
      const store = await h.open(graph);
      const algo = store.hashAlgorithm;
      await store.write(raw, rawRows(3));
      await materialise(store, "video/transcript", ["sample_uid"], () => ({ text: "t" }));
      await store.write(transcript, [
        { sample_uid: "s7", text: "t", metaxy_provenance_by_field: { text: "x" } },
      ]);
      const inc = await collect(await store.resolveUpdate(transcript, { skipComparison: true }));
      expect(pick(sortRows(inc.new, "sample_uid"), ["sample_uid", "metaxy_provenance"])).toEqual(
        [0, 1, 2].map((i) => ({
          sample_uid: `s${i}`,
          metaxy_provenance: transcriptProvenance(algo, `a${i}`).metaxy_provenance,
        })),
      );
      expect([inc.stale, inc.orphaned]).toEqual([[], []]);
    });

    it("rejects a non-id column coming from two upstreams with ColumnCollisionError", async () => {
      const { graph, a, b, c, d, joined, joinedDyn, renamed } = collisionGraph();
      const store = await h.open(graph);
      const row = (i: number, field: string) => ({
        sample_uid: `s${i}`,
        path: `/${field}/${i}`,
        metaxy_provenance_by_field: { [field]: `${field}${i}` },
      });
      await store.write(a, [row(0, "x"), row(1, "x")]);
      await store.write(b, [row(0, "y"), row(1, "y")]);
      await store.write(c, [row(0, "x"), row(1, "x")]);
      await store.write(d, [row(0, "y"), row(1, "y")]);
      // declared schemas: caught while planning; schemaless: caught by the engine
      for (const f of [joined, joinedDyn])
        await expect(store.resolveUpdate(f)).rejects.toMatchObject({
          code: "COLUMN_COLLISION",
          details: { column: "path" },
        });
      const inc = await collect(await store.resolveUpdate(renamed));
      const algo = store.hashAlgorithm;
      expect(
        pick(sortRows(inc.new, "sample_uid"), ["sample_uid", "path", "b_path", "metaxy_provenance"]),
      ).toEqual(
        [0, 1].map((i) => ({
          sample_uid: `s${i}`,
          path: `/x/${i}`,
          b_path: `/y/${i}`,
          metaxy_provenance: recordHash(algo, {
            z: fieldHash(algo, "z", "__metaxy_initial__", [
              ["col/a.x", `x${i}`],
              ["col/b.y", `y${i}`],
            ]),
          }),
        })),
      );
    });
  });
}

/** docs/page rows: p0 en (3), p1 de (9), p2 en (7), p3 en (10), p4 fr (1). */
function pages(): Row[] {
  const spec: Array<[string, string, number]> = [
    ["p0", "en", 3],
    ["p1", "de", 9],
    ["p2", "en", 7],
    ["p3", "en", 10],
    ["p4", "fr", 1],
  ];
  return spec.map(([id, lang, score]) => ({
    page_id: id,
    lang,
    title: `Title ${id}`,
    score,
    metaxy_provenance_by_field: { text: `text-${id}` },
  }));
}

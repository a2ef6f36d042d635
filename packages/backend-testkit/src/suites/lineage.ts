import type { Row } from "@metaxy/core";
import { aggregationGraph, expansionGraph, optionalGraph } from "../fixtures/graphs.js";
import { collect, fieldHash, groupHash, materialise, provenanceColumns, rawRows } from "../fixtures/rows.js";
import { type BackendConformanceOptions, idsOf, sortRows, suiteTitle, useHarness } from "../harness.js";
import type { TestApi } from "../test-api.js";

const PROVENANCE_KEYS = [
  "metaxy_provenance_by_field",
  "metaxy_provenance",
  "metaxy_data_version_by_field",
  "metaxy_data_version",
];

function pick(rows: readonly Row[], columns: readonly string[]): Row[] {
  return rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c]])));
}

export function lineageSuite(test: TestApi, options: BackendConformanceOptions): void {
  const { describe, it, expect } = test;
  describe(suiteTitle(options, "lineage"), () => {
    const h = useHarness(test, options);

    it("aggregation (N:1): one row per group; a member change makes only its group stale", async () => {
      const { graph, recording, speaker } = aggregationGraph();
      const store = await h.open(graph);
      const algo = store.hashAlgorithm;
      const rec = (id: string, sp: string, v = id) => ({
        recording_id: id,
        speaker_id: sp,
        metaxy_provenance_by_field: { default: `p-${v}` },
      });
      // written out of id order: members are concatenated in recording_id order, not storage order
      await store.write(recording, [rec("rec-c", "sp0"), rec("rec-a", "sp0"), rec("rec-e", "sp1")]);
      await store.write(recording, [rec("rec-b", "sp0"), rec("rec-d", "sp1"), rec("rec-f", "sp2")]);
      const speakerRow = (sp: string, members: string[]) => ({
        speaker_id: sp,
        ...provenanceColumns(algo, {
          embedding: fieldHash(algo, "embedding", "1", [
            [
              "audio/recording.default",
              groupHash(
                algo,
                members.map((m) => `p-${m}`),
              ),
            ],
          ]),
        }),
      });

      const first = await collect(await store.resolveUpdate(speaker));
      expect(pick(sortRows(first.new, "speaker_id"), ["speaker_id", ...PROVENANCE_KEYS])).toEqual([
        speakerRow("sp0", ["rec-a", "rec-b", "rec-c"]),
        speakerRow("sp1", ["rec-d", "rec-e"]),
        speakerRow("sp2", ["rec-f"]),
      ]);
      expect([first.stale, first.orphaned]).toEqual([[], []]);
      await store.write(
        speaker,
        first.new.map((r) => ({
          speaker_id: r.speaker_id,
          metaxy_provenance_by_field: r.metaxy_provenance_by_field,
        })),
      );
      expect(await (await store.resolveUpdate(speaker)).counts()).toEqual({
        new: 0,
        stale: 0,
        orphaned: 0,
        failed: 0,
      });

      await store.write(recording, [rec("rec-d", "sp1", "rec-d-v2")]);
      const changed = await collect(await store.resolveUpdate(speaker));
      expect(pick(changed.stale, ["speaker_id", ...PROVENANCE_KEYS])).toEqual([
        speakerRow("sp1", ["rec-d-v2", "rec-e"]),
      ]);
      expect([changed.new, changed.orphaned]).toEqual([[], []]);

      // a new member is a change of its group; removing a group's only member orphans the group
      await store.write(recording, [rec("rec-0", "sp2")]);
      await store.delete(recording, "speaker_id = 'sp0'");
      const moved = await collect(await store.resolveUpdate(speaker));
      expect(pick(sortRows(moved.stale, "speaker_id"), ["speaker_id", ...PROVENANCE_KEYS])).toEqual([
        speakerRow("sp1", ["rec-d-v2", "rec-e"]),
        speakerRow("sp2", ["rec-0", "rec-f"]),
      ]);
      expect(idsOf(moved.orphaned, "speaker_id")).toEqual(["sp0"]);
      expect(moved.new).toEqual([]);
    });

    it("aggregation concatenates members in code-point order of their ids (as SQL engines and Python do)", async () => {
      const { graph, recording, speaker } = aggregationGraph();
      const store = await h.open(graph);
      const algo = store.hashAlgorithm;
      // UTF-16 order would put the astral id first; code-point (UTF-8 byte) order puts it last
      const ids = ["rec-\u{1F600}", "rec-\uFF21", "rec-z", "rec-\u00E9", "rec-\u{1D538}"];
      await store.write(
        recording,
        ids.map((id) => ({
          recording_id: id,
          speaker_id: "sp\u00FC",
          metaxy_provenance_by_field: { default: `p|${id}` },
        })),
      );
      const inc = await collect(await store.resolveUpdate(speaker));
      const ordered = ["rec-z", "rec-\u00E9", "rec-\uFF21", "rec-\u{1D538}", "rec-\u{1F600}"];
      expect(pick(inc.new, ["speaker_id", ...PROVENANCE_KEYS])).toEqual([
        {
          speaker_id: "sp\u00FC",
          ...provenanceColumns(algo, {
            embedding: fieldHash(algo, "embedding", "1", [
              [
                "audio/recording.default",
                groupHash(
                  algo,
                  ordered.map((id) => `p|${id}`),
                ),
              ],
            ]),
          }),
        },
      ]);
    });

    it("expansion (1:N): new = parents without children; stale after a parent change; orphaned after a parent delete", async () => {
      const { graph, source, chunk } = expansionGraph();
      const store = await h.open(graph);
      const algo = store.hashAlgorithm;
      await store.write(
        source,
        ["v0", "v1", "v2"].map((v) => ({ video_id: v, metaxy_provenance_by_field: { default: `src-${v}` } })),
      );
      const parent = (v: string, p = `src-${v}`): Row => ({
        video_id: v,
        ...provenanceColumns(algo, {
          default: fieldHash(algo, "default", "1", [["video/source.default", p]]),
        }),
      });
      const first = await collect(await store.resolveUpdate(chunk));
      expect(pick(sortRows(first.new, "video_id"), ["video_id", ...PROVENANCE_KEYS])).toEqual([
        parent("v0"),
        parent("v1"),
        parent("v2"),
      ]);

      // children of v0 (3) and v1 (2) copy their parent's provenance
      const children = (r: Row, n: number) =>
        Array.from({ length: n }, (_, i) => ({
          chunk_id: `${r.video_id}-c${i}`,
          video_id: r.video_id,
          metaxy_provenance_by_field: r.metaxy_provenance_by_field,
        }));
      const byId = new Map(first.new.map((r) => [r.video_id, r]));
      await store.write(chunk, [...children(byId.get("v0")!, 3), ...children(byId.get("v1")!, 2)]);

      const second = await collect(await store.resolveUpdate(chunk));
      expect(pick(second.new, ["video_id", ...PROVENANCE_KEYS])).toEqual([parent("v2")]);
      expect([second.stale, second.orphaned]).toEqual([[], []]);

      await store.write(source, [{ video_id: "v0", metaxy_provenance_by_field: { default: "src-v0-v2" } }]);
      await store.delete(source, "video_id = 'v1'");
      const third = await collect(await store.resolveUpdate(chunk));
      // one row per parent, not per child
      expect(pick(third.stale, ["video_id", ...PROVENANCE_KEYS])).toEqual([parent("v0", "src-v0-v2")]);
      expect(idsOf(third.new, "video_id")).toEqual(["v2"]);
      expect(pick(third.orphaned, ["video_id", "metaxy_provenance"])).toEqual([
        { video_id: "v1", metaxy_provenance: parent("v1").metaxy_provenance },
      ]);
    });

    it("expansion: a parent whose children were only partly rewritten stays stale", async () => {
      const { graph, source, chunk } = expansionGraph();
      const store = await h.open(graph);
      const ids = Array.from({ length: 12 }, (_, i) => `v${i}`);
      const ingest = (tag: string) =>
        store.write(
          source,
          ids.map((v) => ({ video_id: v, metaxy_provenance_by_field: { default: `${tag}-${v}` } })),
        );
      const writeChildren = async (rows: Row[], only?: number) =>
        store.write(
          chunk,
          rows.flatMap((r) =>
            [0, 1, 2]
              .filter((i) => only === undefined || i === only)
              .map((i) => ({
                chunk_id: `${r.video_id}-c${i}`,
                video_id: r.video_id,
                metaxy_provenance_by_field: r.metaxy_provenance_by_field,
              })),
          ),
        );
      await ingest("a");
      await writeChildren((await collect(await store.resolveUpdate(chunk))).new);
      await ingest("b");
      const stale = (await collect(await store.resolveUpdate(chunk))).stale;
      expect(idsOf(stale, "video_id")).toEqual([...ids].sort());
      // only one child of each parent recomputed: the others still carry the old provenance
      await writeChildren(stale, 0);
      const after = await collect(await store.resolveUpdate(chunk));
      expect(idsOf(after.stale, "video_id")).toEqual([...ids].sort());
      // all children rewritten: up to date
      await writeChildren(stale);
      const done = await collect(await store.resolveUpdate(chunk));
      expect([done.new, done.stale, done.orphaned]).toEqual([[], [], []]);
    });

    it("optional dependency: left join when a required dependency exists; a missing value hashes as ''", async () => {
      const { graph, raw, captions, summary } = optionalGraph();
      const store = await h.open(graph);
      const algo = store.hashAlgorithm;
      await store.write(raw, rawRows(3));
      await store.write(captions, [
        { sample_uid: "s0", lang: "en", metaxy_provenance_by_field: { text: "cap0" } },
        { sample_uid: "s9", lang: "en", metaxy_provenance_by_field: { text: "cap9" } },
      ]);
      const expected = (i: number, caption: string) => ({
        sample_uid: `s${i}`,
        ...provenanceColumns(algo, {
          summary: fieldHash(algo, "summary", "1", [
            ["video/captions.text", caption],
            ["video/raw.audio", `a${i}`],
            ["video/raw.frames", `f${i}`],
          ]),
        }),
      });
      const first = await collect(await store.resolveUpdate(summary));
      expect(pick(sortRows(first.new, "sample_uid"), ["sample_uid", ...PROVENANCE_KEYS])).toEqual([
        expected(0, "cap0"),
        expected(1, ""),
        expected(2, ""),
      ]);
      expect(sortRows(first.new, "sample_uid").map((r) => r.lang ?? null)).toEqual(["en", null, null]);
      await materialise(store, "video/summary", ["sample_uid"]);

      // the optional upstream appears for s1: its provenance changes, so s1 is stale
      await store.write(captions, [
        { sample_uid: "s1", lang: "de", metaxy_provenance_by_field: { text: "cap1" } },
      ]);
      const second = await collect(await store.resolveUpdate(summary));
      expect(pick(second.stale, ["sample_uid", ...PROVENANCE_KEYS])).toEqual([expected(1, "cap1")]);
      expect([second.new, second.orphaned]).toEqual([[], []]);
    });

    it("optional dependencies only: full outer join over both upstreams", async () => {
      const { graph, left, right, both } = optionalGraph();
      const store = await h.open(graph);
      const algo = store.hashAlgorithm;
      await store.write(left, [
        { sample_uid: "s0", metaxy_provenance_by_field: { a: "l0" } },
        { sample_uid: "s1", metaxy_provenance_by_field: { a: "l1" } },
      ]);
      await store.write(right, [
        { sample_uid: "s1", metaxy_provenance_by_field: { b: "r1" } },
        { sample_uid: "s2", metaxy_provenance_by_field: { b: "r2" } },
      ]);
      const expected = (i: number, l: string, r: string) => ({
        sample_uid: `s${i}`,
        ...provenanceColumns(algo, {
          c: fieldHash(algo, "c", "1", [
            ["opt/left.a", l],
            ["opt/right.b", r],
          ]),
        }),
      });
      const inc = await collect(await store.resolveUpdate(both));
      expect(pick(sortRows(inc.new, "sample_uid"), ["sample_uid", ...PROVENANCE_KEYS])).toEqual([
        expected(0, "l0", ""),
        expected(1, "l1", "r1"),
        expected(2, "", "r2"),
      ]);
      expect([inc.stale, inc.orphaned]).toEqual([[], []]);
    });
  });
}

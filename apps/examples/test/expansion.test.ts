import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { duckdb } from "@metaxy/backend-duckdb";
import { type Backend, MetadataStore, memory } from "@metaxy/core";
import { afterAll, describe, expect, it } from "vitest";
import { chunkFeatures } from "../src/expansion/features.js";
import { chunkScenario } from "../src/expansion/scenario.js";

const dir = mkdtempSync(join(tmpdir(), "metaxy-examples-expansion-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const backends: Array<[string, () => () => Backend]> = [
  [
    "duckdb file",
    () => {
      const path = join(dir, `expansion-${++files}.duckdb`);
      return () => duckdb({ path });
    },
  ],
  [
    "memory",
    () => {
      const b = memory();
      return () => b;
    },
  ],
];

describe("expansion story: versions", () => {
  it("an audio code bump changes the video's and the chunk's feature versions, not chunk faces'", () => {
    const v1 = chunkFeatures({ audioCodeVersion: "1" });
    const v2 = chunkFeatures({ audioCodeVersion: "2" });
    const fv = (f: typeof v1, key: string) => f.graph.featureVersion(key);
    expect(fv(v2, "media/video")).not.toBe(fv(v1, "media/video"));
    expect(fv(v2, "media/chunk")).not.toBe(fv(v1, "media/chunk"));
    expect(fv(v2, "media/chunk_faces")).toBe(fv(v1, "media/chunk_faces"));
    expect(v2.graph.fieldVersion("media/chunk", "frames_chunk")).toBe(
      v1.graph.fieldVersion("media/chunk", "frames_chunk"),
    );
  });
});

describe.each(backends)(
  "expansion story (video -> chunks -> chunk faces, 1:N) on %s",
  (_name, makeFactory) => {
    it("re-cuts chunks on an audio code bump without detecting faces again", async () => {
      const factory = makeFactory();
      const runs = await chunkScenario(factory, { videos: 10 });
      const step = (run: number, feature: string) => runs[run].steps.find((s) => s.feature === feature)!;
      const video = (run: number) => step(run, "media/video");
      const chunk = (run: number) => step(run, "media/chunk");
      const faces = (run: number) => step(run, "media/chunk_faces");

      // 1. first run: the chunk increment is at video level (10 rows), 30 chunks written.
      expect(video(0)).toMatchObject({ new: 10, stale: 0, orphaned: 0 });
      expect(chunk(0)).toMatchObject({
        new: 10,
        stale: 0,
        orphaned: 0,
        processed: 10,
        written: 30,
        skipped: 0,
      });
      expect(faces(0)).toMatchObject({ new: 30, stale: 0, orphaned: 0, processed: 30, skipped: 0 });
      expect(runs[0].calls).toEqual({ videosSplit: 10, chunksWritten: 30, faces: 30 });
      // 2. rerun: nothing.
      for (const s of runs[1].steps) expect(s).toMatchObject({ new: 0, stale: 0, orphaned: 0, written: 0 });
      expect(runs[1].calls).toEqual({ videosSplit: 0, chunksWritten: 0, faces: 0 });
      // 3. audio code bump: new feature versions of video and chunk hide their stored rows, so every
      //    video is re-ingested and re-cut ("new", not "stale"); chunk faces' version is unchanged and
      //    the rewritten chunks carry the same frames_chunk provenance, so no face is detected again.
      expect(video(2)).toMatchObject({ new: 10, stale: 0, orphaned: 0 });
      expect(chunk(2)).toMatchObject({
        new: 10,
        stale: 0,
        orphaned: 0,
        processed: 10,
        written: 30,
        skipped: 0,
      });
      expect(faces(2)).toMatchObject({ new: 0, stale: 0, orphaned: 0, processed: 0, skipped: 30 });
      expect(runs[2].calls).toEqual({ videosSplit: 10, chunksWritten: 30, faces: 0 });
      // 4. vid-0000 re-edited to 60 s: 1 video re-cut into 2 chunks, its 3rd chunk retired;
      //    faces: its 2 chunks stale, the retired chunk's faces orphaned.
      expect(video(3)).toMatchObject({ new: 0, stale: 1, orphaned: 0 });
      expect(chunk(3)).toMatchObject({
        new: 0,
        stale: 1,
        orphaned: 0,
        processed: 1,
        written: 2,
        skipped: 27,
      });
      expect(faces(3)).toMatchObject({ new: 0, stale: 2, orphaned: 1, processed: 2, skipped: 27 });
      expect(runs[3].calls).toEqual({ videosSplit: 1, chunksWritten: 2, faces: 2 });
      // 5. rerun: nothing (the retired chunk does not keep its video stale).
      for (const s of runs[4].steps) expect(s).toMatchObject({ new: 0, stale: 0, orphaned: 0, written: 0 });

      // Every child of a video carries the video-level provenance of the increment row.
      const features = chunkFeatures({ audioCodeVersion: "2" });
      await using store = await MetadataStore.open(factory(), { graph: features.graph });
      const chunks = await store.read(features.chunk);
      expect(chunks).toHaveLength(29);
      const perVideo = new Map<string, Set<string>>();
      for (const c of chunks) {
        const set = perVideo.get(c.video_id) ?? new Set<string>();
        set.add(c.metaxy_provenance);
        perVideo.set(c.video_id, set);
      }
      expect(perVideo.size).toBe(10);
      for (const set of perVideo.values()) expect(set.size).toBe(1);
      expect(await store.count(features.chunkFaces)).toBe(29);
    });
  },
);

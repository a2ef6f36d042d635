import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { duckdb } from "@metaxy/backend-duckdb";
import { type Backend, MetadataStore, memory } from "@metaxy/core";
import { afterAll, describe, expect, it } from "vitest";
import { speakerFeatures } from "../src/aggregation/features.js";
import { speakerScenario } from "../src/aggregation/scenario.js";

const dir = mkdtempSync(join(tmpdir(), "metaxy-examples-aggregation-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const backends: Array<[string, () => () => Backend]> = [
  [
    "duckdb file",
    () => {
      const path = join(dir, `aggregation-${++files}.duckdb`);
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

describe.each(backends)(
  "aggregation story (recordings -> speaker embeddings, N:1) on %s",
  (_name, makeFactory) => {
    it("re-embeds exactly the speakers whose recordings changed", async () => {
      const runs = await speakerScenario(makeFactory(), { speakers: 4, recordingsPerSpeaker: 3 });
      const step = (run: number, feature: string) => runs[run].steps.find((s) => s.feature === feature)!;
      const ingest = (run: number) => step(run, "audio/recording");
      const embedding = (run: number) => step(run, "audio/speaker_embedding");

      // 1. first run: one increment row per speaker (not per recording), one embedding each.
      expect(ingest(0)).toMatchObject({ new: 12, stale: 0, orphaned: 0 });
      expect(embedding(0)).toMatchObject({
        new: 4,
        stale: 0,
        orphaned: 0,
        processed: 4,
        written: 4,
        skipped: 0,
      });
      expect(runs[0].calls).toEqual({ speakers: 4, recordingsRead: 12 });
      // 2. rerun: nothing.
      expect(ingest(1)).toMatchObject({ new: 0, stale: 0, orphaned: 0 });
      expect(embedding(1)).toMatchObject({ new: 0, stale: 0, orphaned: 0, processed: 0, skipped: 4 });
      expect(runs[1].calls).toEqual({ speakers: 0, recordingsRead: 0 });
      // 3. one recording changed: only its speaker.
      expect(ingest(2)).toMatchObject({ new: 0, stale: 1, orphaned: 0 });
      expect(embedding(2)).toMatchObject({ new: 0, stale: 1, orphaned: 0, processed: 1, skipped: 3 });
      expect(runs[2].calls).toEqual({ speakers: 1, recordingsRead: 3 });
      // 4. a new recording for spk-2: only spk-2.
      expect(ingest(3)).toMatchObject({ new: 1, stale: 0, orphaned: 0 });
      expect(embedding(3)).toMatchObject({ new: 0, stale: 1, orphaned: 0, processed: 1, skipped: 3 });
      expect(runs[3].calls).toEqual({ speakers: 1, recordingsRead: 4 });
      // 5. spk-3's recordings removed: they are orphaned at ingest, and so is spk-3's embedding.
      expect(ingest(4)).toMatchObject({ new: 0, stale: 0, orphaned: 3 });
      expect(embedding(4)).toMatchObject({ new: 0, stale: 0, orphaned: 1, processed: 0, skipped: 3 });
      expect(runs[4].calls).toEqual({ speakers: 0, recordingsRead: 0 });
    });

    it("stores one embedding per remaining speaker, built from its live recordings", async () => {
      const factory = makeFactory();
      await speakerScenario(factory);
      const features = speakerFeatures();
      await using store = await MetadataStore.open(factory(), { graph: features.graph });
      const rows = await store.read(features.embedding);
      const counts = Object.fromEntries(rows.map((r) => [r.speaker_id, r.recording_count]));
      expect(counts).toEqual({ "spk-0": 3, "spk-1": 3, "spk-2": 4 });
    });
  },
);

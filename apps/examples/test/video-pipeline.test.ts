import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { duckdb } from "@metaxy/backend-duckdb";
import { type Backend, memory } from "@metaxy/core";
import { afterAll, describe, expect, it } from "vitest";
import { videoScenario } from "../src/video-pipeline/scenario.js";

const dir = mkdtempSync(join(tmpdir(), "metaxy-examples-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const backends: Array<[string, () => () => Backend]> = [
  ["duckdb file", () => () => duckdb({ path: join(dir, "video.duckdb") })],
  [
    "memory",
    () => {
      const b = memory();
      return () => b;
    },
  ],
];

describe.each(backends)("video pipeline (main job) on %s", (_name, makeFactory) => {
  it("recomputes exactly what each change touches", async () => {
    const runs = await videoScenario(makeFactory(), { videos: 50, msPerRecord: 0 });
    const [first, rerun, audioBump, audioChange] = runs.map((r) => r.calls);
    expect(first).toEqual({ transcript: 50, faces: 50, caption: 50 });
    expect(rerun).toEqual({ transcript: 0, faces: 0, caption: 0 });
    expect(audioBump).toEqual({ transcript: 50, faces: 0, caption: 50 });
    expect(audioChange).toEqual({ transcript: 5, faces: 0, caption: 5 });
    const step = (run: number, feature: string) => runs[run].steps.find((s) => s.feature === feature)!;
    expect(step(3, "video/transcript")).toMatchObject({
      new: 0,
      stale: 5,
      orphaned: 0,
      processed: 5,
      skipped: 45,
    });
    expect(step(2, "video/faces")).toMatchObject({ new: 0, stale: 0, processed: 0, skipped: 50 });
    expect(step(2, "video/raw")).toMatchObject({ new: 50, stale: 0 });
  });
});

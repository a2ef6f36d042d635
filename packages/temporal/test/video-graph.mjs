// Test fixtures in plain JS, so that worker child processes (no TypeScript loader) share them.
import { videoFeatures } from "@metaxy/core/testing";

/**
 * The shared video graph: transcripts depend on audio only, faces on frames only, captions on both.
 * @param {string} [audioCodeVersion]
 */
export const videoGraph = (audioCodeVersion = "1") => videoFeatures({ audioCodeVersion });

/**
 * `n` raw videos as samples (ids, path, per-stream content hashes).
 * @param {number} n
 * @param {(i: number) => string} [audio]
 * @returns {Array<{ sample_uid: string; path: string; metaxy_provenance_by_field: Record<string, string> }>}
 */
export function videoSamples(n, audio = (i) => `a${i}`) {
  return Array.from({ length: n }, (_, i) => ({
    sample_uid: `v${String(i).padStart(6, "0")}`,
    path: `s3://v/${i}.mp4`,
    metaxy_provenance_by_field: { audio: audio(i), frames: `f${i}` },
  }));
}

/**
 * Compute functions per feature that count the records they see in `calls`.
 * @param {Record<string, number>} [calls]
 * @param {number} [msPerBatch]
 * @returns {Record<string, import("../src/index.js").ComputeFn>}
 */
export function countingCompute(calls = {}, msPerBatch = 0) {
  /** @type {(feature: string, map: (r: any) => any) => import("../src/index.js").ComputeFn} */
  const step = (feature, map) => async (rows) => {
    calls[feature] = (calls[feature] ?? 0) + rows.length;
    if (msPerBatch > 0) await new Promise((r) => setTimeout(r, msPerBatch));
    return rows.map(map);
  };
  return {
    "video/raw": step("video/raw", ({ sample_uid, path }) => ({ sample_uid, path })),
    "video/transcript": step("video/transcript", (r) => ({ sample_uid: r.sample_uid, text: `t:${r.path}` })),
    "video/faces": step("video/faces", (r) => ({ sample_uid: r.sample_uid, face_count: 1 })),
    "video/caption": step("video/caption", (r) => ({ sample_uid: r.sample_uid, caption: `c:${r.text}` })),
  };
}

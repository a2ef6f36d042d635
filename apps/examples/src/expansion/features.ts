import { FeatureGraph, Lineage, defineFeature } from "@metaxy/core";
import { z } from "zod";

/**
 * A video is cut into chunks (1:N), and faces are detected on each chunk's frames (1:1 per
 * chunk). `audioCodeVersion` is the version of the root's audio extraction code: bumping it must
 * recompute the chunks (their `audio_chunk` field reads `audio`) and no chunk faces (their
 * `faces` field reads only `frames_chunk`, which reads only `frames`).
 */
export function chunkFeatures(options: { audioCodeVersion?: string } = {}) {
  const video = defineFeature({
    key: "media/video",
    description: "Uploaded videos; provenance = content hash of each stream",
    idColumns: ["video_id"],
    fields: [
      { key: "audio", codeVersion: options.audioCodeVersion ?? "1" },
      { key: "frames", codeVersion: "1" },
    ],
    schema: z.object({ video_id: z.string(), path: z.string(), duration_s: z.number().int() }),
  });
  const chunk = defineFeature({
    key: "media/chunk",
    description: "Fixed-length chunks of a video (one video -> many chunks)",
    idColumns: ["video_id", "chunk_id"],
    deps: [{ feature: video, lineage: Lineage.expansion({ on: ["video_id"] }) }],
    fields: [
      { key: "audio_chunk", codeVersion: "1", deps: [{ feature: video, fields: ["audio"] }] },
      { key: "frames_chunk", codeVersion: "1", deps: [{ feature: video, fields: ["frames"] }] },
    ],
    schema: z.object({
      video_id: z.string(),
      chunk_id: z.number().int(),
      start_s: z.number().int(),
      end_s: z.number().int(),
    }),
  });
  const chunkFaces = defineFeature({
    key: "media/chunk_faces",
    description: "Face detection on a chunk's frames (GPU)",
    idColumns: ["video_id", "chunk_id"],
    deps: [chunk],
    fields: [{ key: "faces", codeVersion: "1", deps: [{ feature: chunk, fields: ["frames_chunk"] }] }],
    schema: z.object({ video_id: z.string(), chunk_id: z.number().int(), face_count: z.number().int() }),
  });
  const graph = new FeatureGraph([video, chunk, chunkFaces], { project: "chunks" });
  return { video, chunk, chunkFaces, graph };
}

export type ChunkFeatures = ReturnType<typeof chunkFeatures>;

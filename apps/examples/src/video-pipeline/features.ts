import { FeatureGraph, defineFeature } from "@metaxy/core";
import { z } from "zod";

/**
 * The video pipeline's features. `audioCodeVersion` is the version of the audio extraction code:
 * bumping it must recompute transcripts and captions, and no faces.
 */
export function videoFeatures(options: { audioCodeVersion?: string } = {}) {
  const raw = defineFeature({
    key: "video/raw",
    description: "Uploaded videos; provenance = content hash of each stream",
    idColumns: ["sample_uid"],
    fields: [
      { key: "audio", codeVersion: options.audioCodeVersion ?? "1" },
      { key: "frames", codeVersion: "1" },
    ],
    schema: z.object({ sample_uid: z.string(), path: z.string(), duration_s: z.number() }),
  });
  const transcript = defineFeature({
    key: "video/transcript",
    description: "Speech-to-text of the audio track (GPU)",
    idColumns: ["sample_uid"],
    deps: [raw],
    fields: [{ key: "text", codeVersion: "1", deps: [{ feature: raw, fields: ["audio"] }] }],
    schema: z.object({ sample_uid: z.string(), text: z.string() }),
  });
  const faces = defineFeature({
    key: "video/faces",
    description: "Face detection on the frames (GPU)",
    idColumns: ["sample_uid"],
    deps: [raw],
    fields: [{ key: "faces", codeVersion: "1", deps: [{ feature: raw, fields: ["frames"] }] }],
    schema: z.object({ sample_uid: z.string(), face_count: z.number().int() }),
  });
  const caption = defineFeature({
    key: "video/caption",
    description: "A caption from the transcript and the faces (GPU)",
    idColumns: ["sample_uid"],
    deps: [transcript, faces],
    fields: [
      {
        key: "caption",
        codeVersion: "1",
        deps: [
          { feature: transcript, fields: ["text"] },
          { feature: faces, fields: ["faces"] },
        ],
      },
    ],
    schema: z.object({ sample_uid: z.string(), caption: z.string() }),
  });
  const graph = new FeatureGraph([raw, transcript, faces, caption], { project: "video" });
  return { raw, transcript, faces, caption, graph };
}

export type VideoFeatures = ReturnType<typeof videoFeatures>;

import { FeatureGraph, Lineage, defineFeature } from "@metaxy/core";
import { z } from "zod";

/**
 * The graph both sides share, as this project defines it (python/interop_graph.py is the Python
 * half): a root, a dependent with field-level deps, and an N:1 aggregation per scene.
 * `transcriptVersion` is the code version of clip's transcript field.
 */
export function interopGraph(options: { transcriptVersion?: string } = {}) {
  const video = defineFeature({
    key: "interop/video",
    pythonClass: "interop_graph.Video",
    idColumns: ["sample_uid"],
    fields: [
      { key: "audio", codeVersion: "1" },
      { key: "frames", codeVersion: "1" },
    ],
    schema: z.object({
      sample_uid: z.string(),
      scene_id: z.string(),
      duration: z.number(),
      n_frames: z.int(),
      is_hd: z.boolean(),
      captured_at: z.date().nullish(),
      language: z.string().nullish(),
    }),
  });
  const clip = defineFeature({
    key: "interop/clip",
    pythonClass: "interop_graph.Clip",
    idColumns: ["sample_uid"],
    deps: [video],
    fields: [
      {
        key: "transcript",
        codeVersion: options.transcriptVersion ?? "1",
        deps: [{ feature: video, fields: ["audio"] }],
      },
      { key: "thumbnail", codeVersion: "1", deps: [{ feature: video, fields: ["frames"] }] },
    ],
    schema: z.object({ sample_uid: z.string(), text: z.string().nullish() }),
  });
  const scene = defineFeature({
    key: "interop/scene",
    pythonClass: "interop_graph.Scene",
    idColumns: ["scene_id"],
    deps: [{ feature: video, lineage: Lineage.aggregation({ on: ["scene_id"] }) }],
    fields: [{ key: "summary", codeVersion: "1" }],
    schema: z.object({ scene_id: z.string() }),
  });
  const graph = new FeatureGraph([video, clip, scene], { project: "interop" });
  return { video, clip, scene, graph };
}

export type InteropGraph = ReturnType<typeof interopGraph>;

export interface VideoInput {
  sample_uid: string;
  scene_id: string;
  duration: number;
  n_frames: number;
  is_hd: boolean;
  audio: string;
  frames: string;
}

/** Tens of root rows: `n` videos in scenes of four. */
export function videoRows(n: number, salt = ""): VideoInput[] {
  return Array.from({ length: n }, (_, i) => ({
    sample_uid: `s${String(i).padStart(3, "0")}`,
    scene_id: `scene${Math.floor(i / 4)}`,
    duration: 1.5 + i,
    n_frames: 24 * (i + 1),
    is_hd: i % 2 === 0,
    audio: `audio-${i}${salt}`,
    frames: `frames-${i}`,
  }));
}

/** Every column type both sides express (python/interop_graph.py `build_zoo`). */
export const zoo = defineFeature({
  key: "interop/zoo",
  pythonClass: "Zoo",
  description: "Every column type both sides can express.",
  idColumns: ["sample_uid"],
  schema: z.object({
    sample_uid: z.string().describe("the id"),
    choice: z.enum(["x", "y"]),
    only: z.literal("x"),
    sizes: z.array(z.int()).default([1, 2]),
    labels: z.record(z.string(), z.string()),
    anything: z.unknown(),
    ratio: z.number().gte(0).lt(10).default(0.5),
    code: z.string().min(1).max(5).regex(/^a/),
    count: z.int().nullable(),
    seen_at: z.date().nullish(),
    flag: z.boolean().default(true),
    k2x_y: z.string().default("q"),
    level: z.union([z.literal(1), z.literal(2)]),
    note: z.string().nullable().default("z"),
    big: z.bigint(),
  }),
});

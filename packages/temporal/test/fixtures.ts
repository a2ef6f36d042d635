import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { duckdb } from "@metaxy/backend-duckdb";
import { FeatureGraph, MetadataStore, type Row, defineFeature } from "@metaxy/core";
import { Client, Connection } from "@temporalio/client";
import { NativeConnection } from "@temporalio/worker";
import { z } from "zod";
import type { ComputeFn } from "../src/index.js";

export const ADDRESS = `127.0.0.1:${process.env.METAXY_TEMPORAL_PORT ?? "7233"}`;

/** The video graph: transcripts depend on audio only, faces on frames only, captions on both. */
export function videoGraph(audioCodeVersion = "1") {
  const raw = defineFeature({
    key: "video/raw",
    idColumns: ["sample_uid"],
    fields: [
      { key: "audio", codeVersion: audioCodeVersion },
      { key: "frames", codeVersion: "1" },
    ],
    schema: z.object({ sample_uid: z.string(), path: z.string() }),
  });
  const transcript = defineFeature({
    key: "video/transcript",
    idColumns: ["sample_uid"],
    deps: [raw],
    fields: [{ key: "text", codeVersion: "1", deps: [{ feature: raw, fields: ["audio"] }] }],
    schema: z.object({ sample_uid: z.string(), text: z.string() }),
  });
  const faces = defineFeature({
    key: "video/faces",
    idColumns: ["sample_uid"],
    deps: [raw],
    fields: [{ key: "faces", codeVersion: "1", deps: [{ feature: raw, fields: ["frames"] }] }],
    schema: z.object({ sample_uid: z.string(), face_count: z.number().int() }),
  });
  const caption = defineFeature({
    key: "video/caption",
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
  return { raw, transcript, faces, caption, graph: new FeatureGraph([raw, transcript, faces, caption]) };
}

export function videoSamples(n: number, audio = (i: number) => `a${i}`): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    sample_uid: `v${String(i).padStart(6, "0")}`,
    path: `s3://v/${i}.mp4`,
    metaxy_provenance_by_field: { audio: audio(i), frames: `f${i}` },
  }));
}

/** Compute functions that count the records they see per feature. */
export function countingCompute(calls: Record<string, number> = {}): Record<string, ComputeFn> {
  const count = (f: string, n: number) => {
    calls[f] = (calls[f] ?? 0) + n;
  };
  return {
    "video/raw": async (rows) => (count("video/raw", rows.length), rows.map(({ sample_uid, path }) => ({ sample_uid, path }))),
    "video/transcript": async (rows) => (
      count("video/transcript", rows.length), rows.map((r) => ({ sample_uid: r.sample_uid, text: `t:${r.path}` }))
    ),
    "video/faces": async (rows) => (
      count("video/faces", rows.length), rows.map((r) => ({ sample_uid: r.sample_uid, face_count: 1 }))
    ),
    "video/caption": async (rows) => (
      count("video/caption", rows.length), rows.map((r) => ({ sample_uid: r.sample_uid, caption: `${r.text}` }))
    ),
  };
}

export function tempStorePath(): string {
  return join(mkdtempSync(join(tmpdir(), "metaxy-temporal-")), "store.duckdb");
}

export async function openStore(path: string, graph: FeatureGraph): Promise<MetadataStore> {
  return MetadataStore.open(duckdb({ path }), { graph });
}

export async function temporalClient(): Promise<{ client: Client; close(): Promise<void> }> {
  const connection = await Connection.connect({ address: ADDRESS });
  return { client: new Client({ connection }), close: () => connection.close() };
}

export const workerConnection = () => NativeConnection.connect({ address: ADDRESS });
export const uniqueQueue = (name: string) => `${name}-${randomUUID()}`;

import type { IncrementRow, MetadataStore } from "@metaxy/core";
import { runStep, type StepReport } from "../lib/run-step.js";
import type { VideoFeatures } from "./features.js";

/** The rows a step of feature `K` receives. */
type Batch<K extends keyof VideoFeatures> = IncrementRow<VideoFeatures[K]>[];

/** A video as it arrives: id, location and content hashes of its streams. */
export interface VideoInput {
  sample_uid: string;
  path: string;
  duration_s: number;
  audioHash: string;
  framesHash: string;
}

/** Stand-ins for GPU models: they sleep per record and count their calls. */
export class FakeGpuModels {
  readonly calls = { transcript: 0, faces: 0, caption: 0 };
  constructor(readonly msPerRecord = 1) {}

  async transcribe(batch: Batch<"transcript">) {
    this.calls.transcript += batch.length;
    await sleep(this.msPerRecord * batch.length);
    return batch.map((r) => ({ sample_uid: r.sample_uid, text: `transcript of ${r.path}` }));
  }
  async detectFaces(batch: Batch<"faces">) {
    this.calls.faces += batch.length;
    await sleep(this.msPerRecord * batch.length);
    return batch.map((r) => ({ sample_uid: r.sample_uid, face_count: r.sample_uid.length % 4 }));
  }
  async caption(batch: Batch<"caption">) {
    this.calls.caption += batch.length;
    await sleep(this.msPerRecord * batch.length);
    return batch.map((r) => ({ sample_uid: r.sample_uid, caption: `${r.face_count} people: ${r.text}` }));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GPU cost of one record per step, for the "saved" figures. */
export const GPU_SECONDS = { transcript: 4, faces: 2.5, caption: 1.5 } as const;

/** One incremental run of the whole pipeline: ingest, then each GPU step on what changed. */
export async function runVideoPipeline(
  store: MetadataStore,
  features: VideoFeatures,
  videos: VideoInput[],
  models: FakeGpuModels,
): Promise<StepReport[]> {
  const samples = videos.map((v) => ({
    sample_uid: v.sample_uid,
    path: v.path,
    duration_s: v.duration_s,
    metaxy_provenance_by_field: { audio: v.audioHash, frames: v.framesHash },
  }));
  // Ingest: a root feature resolves against user-supplied samples (cheap, no GPU).
  const ingest = await runStep(
    store,
    features.raw,
    async (batch) => batch.map(({ sample_uid, path, duration_s }) => ({ sample_uid, path, duration_s })),
    {
      gpuSecondsPerRecord: 0,
      resolve: { samples },
      batchSize: 1000,
    },
  );
  const transcript = await runStep(store, features.transcript, (b) => models.transcribe(b), {
    gpuSecondsPerRecord: GPU_SECONDS.transcript,
  });
  const faces = await runStep(store, features.faces, (b) => models.detectFaces(b), {
    gpuSecondsPerRecord: GPU_SECONDS.faces,
  });
  // Increment rows carry the upstream columns (text, face_count): no extra reads needed.
  const caption = await runStep(store, features.caption, (b) => models.caption(b), {
    gpuSecondsPerRecord: GPU_SECONDS.caption,
  });
  return [ingest, transcript, faces, caption];
}

/** `n` synthetic videos with deterministic content hashes. */
export function syntheticVideos(n: number): VideoInput[] {
  return Array.from({ length: n }, (_, i) => ({
    sample_uid: `vid-${String(i).padStart(5, "0")}`,
    path: `s3://videos/${i}.mp4`,
    duration_s: 30 + (i % 90),
    audioHash: `audio-${i}`,
    framesHash: `frames-${i}`,
  }));
}

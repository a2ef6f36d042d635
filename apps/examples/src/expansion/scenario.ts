import { type Backend, type IncrementRow, MetadataStore } from "@metaxy/core";
import { formatReport, runStep, type StepReport } from "../lib/run-step.js";
import { type ChunkFeatures, chunkFeatures } from "./features.js";

/** A video as it arrives: id, location, length and content hashes of its streams. */
export interface VideoInput {
  video_id: string;
  path: string;
  duration_s: number;
  audioHash: string;
  framesHash: string;
}

/** Chunk length: a 90 s video gives 3 chunks. */
export const CHUNK_SECONDS = 30;

/** Stand-ins for the chunker and the face detector: they count their calls. */
export class FakeChunkModels {
  readonly calls = { videosSplit: 0, chunksWritten: 0, faces: 0 };

  /** One parent row in, its children out: the step copies the parent's provenance to each child. */
  async split(batch: IncrementRow<ChunkFeatures["chunk"]>[]) {
    this.calls.videosSplit += batch.length;
    return batch.map((v) => {
      const n = Math.ceil(Number(v.duration_s) / CHUNK_SECONDS);
      this.calls.chunksWritten += n;
      return Array.from({ length: n }, (_, chunk_id) => ({
        video_id: v.video_id,
        chunk_id,
        start_s: chunk_id * CHUNK_SECONDS,
        end_s: Math.min((chunk_id + 1) * CHUNK_SECONDS, Number(v.duration_s)),
      }));
    });
  }

  async detectFaces(batch: IncrementRow<ChunkFeatures["chunkFaces"]>[]) {
    this.calls.faces += batch.length;
    return batch.map((c) => ({
      video_id: c.video_id,
      chunk_id: c.chunk_id,
      face_count: (c.video_id.length + c.chunk_id) % 3,
    }));
  }
}

export interface ChunkRun {
  title: string;
  steps: StepReport[];
  calls: FakeChunkModels["calls"];
}

/** Cost of one record per step, for the "saved" figures. */
export const GPU_SECONDS = { chunk: 0.5, faces: 3 } as const;

/** One incremental run: ingest the videos, cut the changed ones into chunks, detect faces on changed chunks. */
export async function runChunkPipeline(
  store: MetadataStore,
  features: ChunkFeatures,
  videos: VideoInput[],
  models: FakeChunkModels,
): Promise<StepReport[]> {
  const samples = videos.map(({ audioHash, framesHash, ...v }) => ({
    ...v,
    metaxy_provenance_by_field: { audio: audioHash, frames: framesHash },
  }));
  const ingest = await runStep(
    store,
    features.video,
    async (batch) => batch.map(({ video_id, path, duration_s }) => ({ video_id, path, duration_s })),
    { gpuSecondsPerRecord: 0, resolve: { samples }, batchSize: 1000 },
  );
  // 1:N: the increment has one row per video; each returned chunk gets that video's provenance.
  const chunk = await runStep(store, features.chunk, (b) => models.split(b), {
    gpuSecondsPerRecord: GPU_SECONDS.chunk,
  });
  const faces = await runStep(store, features.chunkFaces, (b) => models.detectFaces(b), {
    gpuSecondsPerRecord: GPU_SECONDS.faces,
  });
  return [ingest, chunk, faces];
}

/** `n` synthetic 90-second videos with deterministic content hashes. */
export function syntheticVideos(n: number): VideoInput[] {
  return Array.from({ length: n }, (_, i) => ({
    video_id: `vid-${String(i).padStart(4, "0")}`,
    path: `s3://videos/${i}.mp4`,
    duration_s: 3 * CHUNK_SECONDS,
    audioHash: `audio-${i}`,
    framesHash: `frames-${i}`,
  }));
}

/**
 * The expansion (1:N) story: first run; a rerun computes nothing; bumping the root's audio code
 * version re-cuts every video into chunks but detects no faces again; re-editing one video to a
 * shorter cut recomputes its chunks and their faces and retires the chunk that no longer exists.
 */
export async function chunkScenario(
  backend: () => Backend,
  options: { videos?: number; log?: (s: string) => void } = {},
): Promise<ChunkRun[]> {
  const n = options.videos ?? 10;
  let videos = syntheticVideos(n);
  const runs: ChunkRun[] = [];
  const pass = async (title: string, audioCodeVersion: string) => {
    const features = chunkFeatures({ audioCodeVersion });
    const models = new FakeChunkModels();
    await using store = await MetadataStore.open(backend(), { graph: features.graph });
    const steps = await runChunkPipeline(store, features, videos, models);
    runs.push({ title, steps, calls: { ...models.calls } });
    options.log?.(formatReport(title, steps, { written: true }) + "\n");
  };

  await pass(`1. first run: ${n} videos of ${3 * CHUNK_SECONDS} s, ${CHUNK_SECONDS} s chunks`, "1");
  await pass("2. rerun, nothing changed", "1");
  await pass("3. audio extraction code bumped (audio v2)", "2");
  videos = videos.map((v, i) =>
    i === 0
      ? {
          ...v,
          duration_s: 2 * CHUNK_SECONDS,
          audioHash: `${v.audioHash}-cut`,
          framesHash: `${v.framesHash}-cut`,
        }
      : v,
  );
  await pass(`4. ${videos[0].video_id} re-edited to ${2 * CHUNK_SECONDS} s (new audio and frames)`, "2");
  await pass("5. rerun, nothing changed", "2");
  return runs;
}

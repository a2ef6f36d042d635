import { type Backend, type IncrementRow, MetadataStore } from "@metaxy/core";
import { formatReport, runStep, type StepReport } from "../lib/run-step.js";
import { type SpeakerFeatures, speakerFeatures } from "./features.js";

/** A recording as it arrives: id, speaker, location and the content hash of its audio. */
export interface RecordingInput {
  recording_id: string;
  speaker_id: string;
  path: string;
  audioHash: string;
}

/** A stand-in for the embedding model: counts the speakers it embeds and the recordings it reads. */
export class FakeSpeakerEncoder {
  readonly calls = { speakers: 0, recordingsRead: 0 };

  /**
   * The increment of an N:1 step holds one row per speaker (its id and provenance), so the
   * worker reads the speaker's recordings itself, all speakers of the batch in one filtered read.
   */
  async embed(
    store: MetadataStore,
    features: SpeakerFeatures,
    batch: IncrementRow<SpeakerFeatures["embedding"]>[],
  ) {
    const speakers = batch.map((r) => r.speaker_id);
    const list = speakers.map((s) => `'${s.replaceAll("'", "''")}'`).join(", ");
    const recordings = await store.read(features.recording, { filters: `speaker_id IN (${list})` });
    this.calls.speakers += batch.length;
    this.calls.recordingsRead += recordings.length;
    return speakers.map((speaker_id) => {
      const own = recordings.filter((r) => r.speaker_id === speaker_id);
      return {
        speaker_id,
        recording_count: own.length,
        vector_uri: `s3://embeddings/${speaker_id}/${own.length}.npy`,
      };
    });
  }
}

export interface SpeakerRun {
  title: string;
  steps: StepReport[];
  calls: FakeSpeakerEncoder["calls"];
}

/** GPU cost of one speaker embedding, for the "saved" figures. */
export const GPU_SECONDS_PER_EMBEDDING = 20;

/** One incremental run: ingest the recordings (retiring the ones gone), then embed what changed. */
export async function runSpeakerPipeline(
  store: MetadataStore,
  features: SpeakerFeatures,
  recordings: RecordingInput[],
  encoder: FakeSpeakerEncoder,
): Promise<StepReport[]> {
  const samples = recordings.map(({ audioHash, ...r }) => ({
    ...r,
    metaxy_provenance_by_field: { audio: audioHash },
  }));
  const ingest = await runStep(
    store,
    features.recording,
    async (batch) => batch.map(({ recording_id, speaker_id, path }) => ({ recording_id, speaker_id, path })),
    { gpuSecondsPerRecord: 0, resolve: { samples }, batchSize: 1000 },
  );
  const embedding = await runStep(
    store,
    features.embedding,
    (batch) => encoder.embed(store, features, batch),
    { gpuSecondsPerRecord: GPU_SECONDS_PER_EMBEDDING },
  );
  return [ingest, embedding];
}

/** `speakers` speakers with `perSpeaker` recordings each, deterministic content hashes. */
export function syntheticRecordings(speakers: number, perSpeaker: number): RecordingInput[] {
  return Array.from({ length: speakers * perSpeaker }, (_, i) => {
    const s = Math.floor(i / perSpeaker);
    return {
      recording_id: `rec-${s}-${i % perSpeaker}`,
      speaker_id: `spk-${s}`,
      path: `s3://recordings/${s}/${i % perSpeaker}.wav`,
      audioHash: `audio-${s}-${i % perSpeaker}`,
    };
  });
}

/**
 * The aggregation (N:1) story: first run embeds every speaker once; a rerun embeds none; a
 * changed recording, then a new recording, each re-embed only their speaker; removing all of a
 * speaker's recordings orphans (and retires) that speaker's embedding.
 */
export async function speakerScenario(
  backend: () => Backend,
  options: { speakers?: number; recordingsPerSpeaker?: number; log?: (s: string) => void } = {},
): Promise<SpeakerRun[]> {
  const speakers = options.speakers ?? 4;
  const perSpeaker = options.recordingsPerSpeaker ?? 3;
  let recordings = syntheticRecordings(speakers, perSpeaker);
  const features = speakerFeatures();
  const runs: SpeakerRun[] = [];
  const pass = async (title: string) => {
    const encoder = new FakeSpeakerEncoder();
    await using store = await MetadataStore.open(backend(), { graph: features.graph });
    const steps = await runSpeakerPipeline(store, features, recordings, encoder);
    runs.push({ title, steps, calls: { ...encoder.calls } });
    options.log?.(formatReport(title, steps) + "\n");
  };

  await pass(`1. first run: ${recordings.length} recordings of ${speakers} speakers`);
  await pass("2. rerun, nothing changed");
  recordings = recordings.map((r) =>
    r.recording_id === "rec-1-0" ? { ...r, audioHash: `${r.audioHash}-denoised` } : r,
  );
  await pass("3. recording rec-1-0 (speaker spk-1) re-uploaded with new audio");
  recordings = [
    ...recordings,
    {
      recording_id: "rec-2-new",
      speaker_id: "spk-2",
      path: "s3://recordings/2/new.wav",
      audioHash: "audio-2-new",
    },
  ];
  await pass("4. a new recording for speaker spk-2");
  recordings = recordings.filter((r) => r.speaker_id !== "spk-3");
  await pass("5. every recording of speaker spk-3 removed");
  return runs;
}

import {
  type Backend,
  defineFeature,
  FeatureGraph,
  type IncrementRow,
  MetadataStore,
  memory,
} from "@metaxy/core";
import { z } from "zod";

const video = defineFeature({
  key: "video/raw",
  idColumns: ["sample_uid"],
  fields: [
    { key: "audio", codeVersion: "1" },
    { key: "frames", codeVersion: "1" },
  ],
  schema: z.object({ sample_uid: z.string(), path: z.string() }),
});
const transcript = defineFeature({
  key: "video/transcript",
  idColumns: ["sample_uid"],
  deps: [video],
  fields: [{ key: "text", codeVersion: "1", deps: [{ feature: video, fields: ["audio"] }] }],
  schema: z.object({ sample_uid: z.string(), text: z.string() }),
});

// A stand-in for your GPU model. Increment rows are typed from the feature: sample_uid is a string.
async function transcribe(batch: IncrementRow<typeof transcript>[]) {
  return batch.map((r) => ({ sample_uid: r.sample_uid, text: `words of ${r.path}` }));
}

/** Records the videos (content hash per field), then transcribes only what is new or stale. */
async function update(store: MetadataStore, hashes: Record<string, { audio: string; frames: string }>) {
  await store.write(
    video,
    Object.entries(hashes).map(([id, h]) => ({
      sample_uid: id,
      path: `s3://v/${id}.mp4`,
      metaxy_provenance_by_field: h,
    })),
  );
  await using increment = await store.resolveUpdate(transcript); // new / stale / orphaned, computed in the engine
  const transcribed: string[] = [];
  for await (const batch of increment.toProcess({ batchSize: 256 })) {
    const texts = await transcribe(batch); // your GPU work
    await store.write(
      transcript,
      texts.map((t, i) => ({ ...t, metaxy_provenance_by_field: batch[i].metaxy_provenance_by_field })),
    );
    transcribed.push(...texts.map((t) => t.sample_uid));
  }
  return { ...(await increment.counts()), transcribed };
}

export async function quickstart(backend: Backend = memory()) {
  await using store = await MetadataStore.open(backend, { graph: new FeatureGraph([video, transcript]) });
  const first = await update(store, {
    v1: { audio: "sha:a1", frames: "sha:f1" },
    v2: { audio: "sha:a2", frames: "sha:f2" },
  });
  // v1's frames re-encoded (a transcript reads only audio), v2's audio remastered:
  const second = await update(store, {
    v1: { audio: "sha:a1", frames: "sha:f1b" },
    v2: { audio: "sha:a2b", frames: "sha:f2" },
  });
  return { first, second }; // first: 2 new, transcribed v1 and v2; second: 1 stale, transcribed v2 only
}

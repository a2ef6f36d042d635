import { FeatureGraph, Lineage, defineFeature } from "@metaxy/core";
import { z } from "zod";

/**
 * Recordings fold into one embedding per speaker (N:1). The embedding's provenance is a hash of
 * the audio data versions of ALL the speaker's recordings, so any change to one of them (or a
 * recording added or removed) makes that speaker's embedding stale, and no other.
 */
export function speakerFeatures() {
  const recording = defineFeature({
    key: "audio/recording",
    description: "Uploaded recordings; provenance = content hash of the audio",
    idColumns: ["recording_id"],
    fields: [{ key: "audio", codeVersion: "1" }],
    schema: z.object({ recording_id: z.string(), speaker_id: z.string(), path: z.string() }),
  });
  const embedding = defineFeature({
    key: "audio/speaker_embedding",
    description: "One voice embedding per speaker, from all of the speaker's recordings (GPU)",
    idColumns: ["speaker_id"],
    deps: [{ feature: recording, lineage: Lineage.aggregation({ on: ["speaker_id"] }) }],
    fields: [{ key: "embedding", codeVersion: "1", deps: [{ feature: recording, fields: ["audio"] }] }],
    schema: z.object({
      speaker_id: z.string(),
      recording_count: z.number().int(),
      vector_uri: z.string(),
    }),
  });
  const graph = new FeatureGraph([recording, embedding], { project: "speakers" });
  return { recording, embedding, graph };
}

export type SpeakerFeatures = ReturnType<typeof speakerFeatures>;

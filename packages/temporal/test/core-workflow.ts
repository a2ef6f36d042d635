// A workflow module that uses @metaxy/core's main entry inside Temporal's workflow sandbox:
// features and graph defined there, versions computed there (plain-JS SHA-256, no `process`).
import { FeatureGraph, defineFeature, hashString } from "@metaxy/core";

export async function coreInWorkflow(): Promise<Record<string, string>> {
  const raw = defineFeature({ key: "video/raw", idColumns: ["sample_uid"], fields: ["audio", "frames"] });
  const transcript = defineFeature({
    key: "video/transcript",
    idColumns: ["sample_uid"],
    deps: [raw],
    fields: [{ key: "text", codeVersion: "2", deps: [{ feature: raw, fields: ["audio"] }] }],
  });
  const graph = new FeatureGraph([raw, transcript]);
  return {
    feature: graph.featureVersion(transcript),
    project: graph.projectVersion(),
    md5: hashString("md5", "héllo wörld"),
  };
}

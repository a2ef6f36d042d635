import { describe, expect, it } from "vitest";
import { z } from "zod";
import { FeatureGraph, Lineage, defineFeature, graphFromSnapshot, graphToSnapshot } from "../src/index.js";

describe("graph snapshots", () => {
  it("round-trip every version without importing code", () => {
    const raw = defineFeature({
      key: "s/raw",
      idColumns: ["uid"],
      fields: ["audio", "frames"],
      schema: z.object({ uid: z.string(), speaker: z.string() }),
      metadata: { owner: "ml-team" },
    });
    const agg = defineFeature({
      key: "s/speaker",
      idColumns: ["speaker"],
      deps: [
        { feature: raw, lineage: Lineage.aggregation({ on: ["speaker"] }), filters: ["speaker != 'x'"] },
      ],
      fields: [{ key: "emb", codeVersion: "3", deps: [{ feature: raw, fields: ["audio"] }] }],
    });
    const graph = new FeatureGraph([raw, agg], { project: "p" });
    const snapshot = JSON.parse(JSON.stringify(graphToSnapshot(graph)));
    expect(Object.keys(snapshot).sort()).toEqual(["s/raw", "s/speaker"]);
    const restored = graphFromSnapshot(snapshot);
    for (const k of ["s/raw", "s/speaker"]) {
      expect(restored.featureVersion(k)).toBe(graph.featureVersion(k));
      expect(restored.specVersion(k)).toBe(graph.specVersion(k));
      expect(restored.definitionVersion(k)).toBe(graph.definitionVersion(k));
    }
    expect(restored.projectVersion("p")).toBe(graph.projectVersion("p"));
    expect(() => graphFromSnapshot({ "s/raw": { ...snapshot["s/raw"], feature_spec: undefined } })).toThrow(
      /feature_spec/,
    );
  });
});

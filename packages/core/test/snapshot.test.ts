import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  FeatureGraph,
  Lineage,
  defineFeature,
  graphFromSnapshot,
  graphToSnapshot,
  pythonJsonDumpsUnsorted,
  specToJson,
} from "../src/index.js";

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

describe("snapshot rows as Python Metaxy writes them", () => {
  it("feature_spec is the text of Python's json.dumps(spec.model_dump(mode='json'))", () => {
    // Printed by metaxy 0.1.11 for the same two features (`graph.to_snapshot()`, then `json.dumps`).
    const python = {
      root: '{"key": "bench/simple_root", "id_columns": ["sample_uid"], "deps": [], "fields": [{"key": "audio", "code_version": "1", "deps": []}], "metadata": {}, "description": null}',
      leaf: '{"key": "bench/simple_leaf", "id_columns": ["sample_uid"], "deps": [{"feature": "bench/simple_root", "select": null, "rename": null, "fields_mapping": {"mapping": {"type": "default", "match_suffix": false, "exclude_fields": []}}, "sql_filters": null, "lineage": {"relationship": {"type": "1:1"}}, "optional": false}], "fields": [{"key": "prediction", "code_version": "1", "deps": []}], "metadata": {}, "description": null}',
    };
    const schema = z.object({ sample_uid: z.string() });
    const root = defineFeature({
      key: "bench/simple_root",
      idColumns: ["sample_uid"],
      fields: [{ key: "audio", codeVersion: "1" }],
      schema,
    });
    const leaf = defineFeature({
      key: "bench/simple_leaf",
      idColumns: ["sample_uid"],
      deps: [root],
      fields: [{ key: "prediction", codeVersion: "1" }],
      schema,
    });
    expect(pythonJsonDumpsUnsorted(specToJson(root.spec))).toBe(python.root);
    expect(pythonJsonDumpsUnsorted(specToJson(leaf.spec))).toBe(python.leaf);
  });
});

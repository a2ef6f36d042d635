import { CycleError } from "../errors.js";
import type { FeatureKey } from "../keys.js";
import { compareParts, compareStrings } from "../keys.js";
import { specToJson } from "../spec/define-feature.js";
import type { FeatureGraph } from "../graph/feature-graph.js";
import { sha256Parts } from "./hash-algorithms.js";
import { pythonJsonDumps } from "./python-json.js";

/**
 * Graph-level versions (SPEC §2.1), memoised for one state of a graph. All are SHA-256 over
 * concatenated strings, truncated to the graph's `hashTruncationLength`.
 */
export class GraphVersions {
  readonly #graph: FeatureGraph;
  readonly #trunc: number;
  readonly #fields = new Map<string, string>();
  readonly #inProgress = new Set<string>();
  readonly #features = new Map<string, string>();
  readonly #specs = new Map<string, string>();
  readonly #definitions = new Map<string, string>();

  constructor(graph: FeatureGraph) {
    this.#graph = graph;
    this.#trunc = graph.hashTruncationLength;
  }

  /** sha256(fq key ‖ code version ‖ parent field versions in FQ order). */
  fieldVersion(feature: FeatureKey, field: string): string {
    const id = `${feature}.${field}`;
    const cached = this.#fields.get(id);
    if (cached) return cached;
    if (this.#inProgress.has(id))
      throw new CycleError(`Field dependency cycle through "${id}"`, { feature: feature.toString(), field });
    this.#inProgress.add(id);
    try {
      const def = this.#graph.get(feature);
      const spec = def.spec.fields.find((f) => f.key.toString() === field);
      const parents = this.#graph.parentFields(feature, field);
      const parts = [id, spec!.codeVersion];
      for (const p of parents) parts.push(this.fieldVersion(p.feature, p.field.toString()));
      const version = sha256Parts(parts, this.#trunc);
      this.#fields.set(id, version);
      return version;
    } finally {
      this.#inProgress.delete(id);
    }
  }

  featureVersionByField(feature: FeatureKey): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of this.#graph.get(feature).spec.fields)
      out[f.key.toString()] = this.fieldVersion(feature, f.key.toString());
    return out;
  }

  /** sha256 over (field string ‖ field version) sorted by field string. */
  featureVersion(feature: FeatureKey): string {
    const id = feature.toString();
    const cached = this.#features.get(id);
    if (cached) return cached;
    const byField = this.featureVersionByField(feature);
    const parts: string[] = [];
    for (const k of Object.keys(byField).sort(compareStrings)) parts.push(k, byField[k]);
    const version = sha256Parts(parts, this.#trunc);
    this.#features.set(id, version);
    return version;
  }

  /** Feature code version: sha256 over (field string ‖ code version) sorted by field string. */
  codeVersion(feature: FeatureKey): string {
    const fields = [...this.#graph.get(feature).spec.fields].sort((a, b) =>
      compareStrings(a.key.toString(), b.key.toString()),
    );
    return sha256Parts(
      fields.flatMap((f) => [f.key.toString(), f.codeVersion]),
      this.#trunc,
    );
  }

  specVersion(feature: FeatureKey): string {
    const id = feature.toString();
    let v = this.#specs.get(id);
    if (!v) {
      v = specVersionOfJson(specToJson(this.#graph.get(feature).spec), this.#trunc);
      this.#specs.set(id, v);
    }
    return v;
  }

  definitionVersion(feature: FeatureKey): string {
    const id = feature.toString();
    let v = this.#definitions.get(id);
    if (!v) {
      v = definitionVersionOf(this.specVersion(feature), this.#graph.get(feature).featureSchema, this.#trunc);
      this.#definitions.set(id, v);
    }
    return v;
  }

  /** Over the definition versions of the project's code-defined features, sorted by key parts. */
  projectVersion(project: string): string {
    const features = this.#graph
      .listFeatures({ project })
      .map((f) => f.key)
      .sort((a, b) => compareParts(a.parts, b.parts));
    return projectVersionOf(
      features.map((k) => [k.toString(), this.definitionVersion(k)] as const),
      this.#trunc,
    );
  }
}

export function specVersionOfJson(specJson: unknown, truncation: number): string {
  return sha256Parts([pythonJsonDumps(specJson)], truncation);
}

export function definitionVersionOf(specVersion: string, featureSchema: unknown, truncation: number): string {
  return sha256Parts([specVersion, pythonJsonDumps(featureSchema)], truncation);
}

/** `items` must already be sorted by key parts. */
export function projectVersionOf(
  items: ReadonlyArray<readonly [string, string]>,
  truncation: number,
): string {
  if (items.length === 0) return "empty";
  return sha256Parts(items.flat(), truncation);
}

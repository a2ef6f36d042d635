import { ValidationError } from "../errors.js";
import { compareStrings } from "../keys.js";
import { type FeatureDefinition, specToJson } from "../spec/define-feature.js";
import { featureFromSpecJson } from "../spec/spec-from-json.js";
import { FeatureGraph, type FeatureGraphOptions } from "./feature-graph.js";

/** One feature of a graph snapshot, as stored in `metaxy_system__feature_versions` (SPEC §1.10). */
export interface FeatureSnapshot {
  feature_spec: Record<string, unknown>;
  feature_schema: Record<string, unknown>;
  metaxy_feature_version: string;
  metaxy_definition_version: string;
  feature_class_path: string | null;
  project: string;
}

export type GraphSnapshot = Record<string, FeatureSnapshot>;

/** The code-defined features of `project` (default: the graph's), keyed by key string. */
export function graphToSnapshot(graph: FeatureGraph, project: string = graph.project): GraphSnapshot {
  const out: GraphSnapshot = {};
  for (const f of graph.listFeatures({ project }))
    out[f.key.toString()] = {
      feature_spec: specToJson(f.spec),
      feature_schema: { ...f.featureSchema },
      metaxy_feature_version: graph.featureVersion(f.key),
      metaxy_definition_version: graph.definitionVersion(f.key),
      feature_class_path: f.pythonClass,
      project,
    };
  return out;
}

/** Rebuilds a graph from a snapshot without importing any code. */
export function graphFromSnapshot(snapshot: GraphSnapshot, options: FeatureGraphOptions = {}): FeatureGraph {
  const defs = Object.entries(snapshot).map(([key, entry]) => {
    for (const field of ["feature_spec", "feature_schema", "project"] as const)
      if (entry?.[field] === undefined)
        throw new ValidationError(`Snapshot entry "${key}" is missing "${field}"`, { feature: key });
    return featureFromSpecJson(entry.feature_spec, {
      featureSchema: entry.feature_schema,
      project: entry.project,
      source: entry.feature_class_path ?? "snapshot",
      pythonClass: entry.feature_class_path,
      external: false,
    });
  });
  const project = options.project ?? defs[0]?.project;
  const graph = new FeatureGraph([], { ...options, project });
  for (const def of dependenciesFirst(defs)) graph.add(def);
  return graph;
}

/** Dependencies before dependents, so a graph can be rebuilt one `add` at a time. */
function dependenciesFirst(defs: FeatureDefinition[]): FeatureDefinition[] {
  const byKey = new Map(defs.map((d) => [d.key.toString(), d]));
  const out: FeatureDefinition[] = [];
  const seen = new Set<string>();
  const visit = (d: FeatureDefinition) => {
    const k = d.key.toString();
    if (seen.has(k)) return;
    seen.add(k);
    for (const dep of d.spec.deps) {
      const up = byKey.get(dep.feature.toString());
      if (up) visit(up);
    }
    out.push(d);
  };
  for (const d of [...defs].sort((a, b) => compareStrings(a.key.toString(), b.key.toString()))) visit(d);
  return out;
}

/**
 * The two benchmark graphs of BENCHMARK.md, exactly as Python Metaxy's paper benchmark defines
 * them (every code version "1", id column `sample_uid`), plus the data layout gen_data.py writes.
 */
import { readFileSync } from "node:fs";
import {
  type FeatureDefinition,
  FeatureGraph,
  columnTypesOfSchema,
  compareStrings,
  defineFeature,
} from "@metaxy/core";
import { tableSchemaOf } from "@metaxy/core/backend";
import { duckdbDialect } from "@metaxy/backend-duckdb";
import { z } from "zod";

export type GraphName = "simple" | "wide";
export const GRAPH_NAMES: readonly GraphName[] = ["simple", "wide"];

/** Python's `MetaxyConfig(project="metaxy_paper_benchmark")`. */
export const PROJECT = "metaxy_paper_benchmark";
export const SIMPLE_FIELDS = ["audio", "frames"] as const;
export const WIDE_FIELDS = ["audio", "frames", "optical_flow", "embedding"] as const;
export const WIDE_FANIN = 2;

const idSchema = () => z.object({ sample_uid: z.number().int() });

export interface RootInfo {
  def: FeatureDefinition;
  /** Parquet file (in the cell's data dir) holding this root's values. */
  file: string;
  /** Fields in definition order. */
  fields: readonly string[];
}

export interface BenchGraph {
  name: GraphName;
  graph: FeatureGraph;
  roots: RootInfo[];
  leaf: FeatureDefinition;
  /** Root 0's mutated copy (appended in the stale phase). */
  mutatedFile: string;
}

export function buildGraph(name: GraphName): BenchGraph {
  if (name === "simple") {
    const root = defineFeature({
      key: "bench/simple_root",
      idColumns: ["sample_uid"],
      fields: SIMPLE_FIELDS.map((key) => ({ key, codeVersion: "1" })),
      schema: idSchema(),
    });
    const leaf = defineFeature({
      key: "bench/simple_leaf",
      idColumns: ["sample_uid"],
      deps: [root],
      fields: [{ key: "prediction", codeVersion: "1" }],
      schema: idSchema(),
    });
    return {
      name,
      graph: new FeatureGraph([root, leaf], { project: PROJECT }),
      roots: [{ def: root, file: "simple_root.parquet", fields: SIMPLE_FIELDS }],
      leaf,
      mutatedFile: "simple_root_mutated.parquet",
    };
  }
  const roots = Array.from({ length: WIDE_FANIN }, (_, i) =>
    defineFeature({
      key: `bench/wide_root_${i}`,
      idColumns: ["sample_uid"],
      fields: WIDE_FIELDS.map((key) => ({ key, codeVersion: "1" })),
      schema: idSchema(),
    }),
  );
  const leaf = defineFeature({
    key: "bench/wide_leaf",
    idColumns: ["sample_uid"],
    deps: roots.map((r) => ({ feature: r })),
    fields: [
      { key: "prediction_a", codeVersion: "1" },
      { key: "prediction_b", codeVersion: "1" },
    ],
    schema: idSchema(),
  });
  return {
    name,
    graph: new FeatureGraph([...roots, leaf], { project: PROJECT }),
    roots: roots.map((def, i) => ({ def, file: `wide_root_${i}.parquet`, fields: WIDE_FIELDS })),
    leaf,
    mutatedFile: "wide_root_0_mutated.parquet",
  };
}

/** Column name → DuckDB type, in the order `ensureTable` creates them (user columns, then the 10 system columns). */
export function tableColumns(def: FeatureDefinition): Array<[string, string]> {
  const schema = tableSchemaOf(def, def.schema ? columnTypesOfSchema(def.schema) : null, []);
  return Object.entries(schema).map(([n, t]) => [n, duckdbDialect.typeName(t)]);
}

export function sortedStrings(xs: readonly string[]): string[] {
  return [...xs].sort(compareStrings);
}

// ---- the reference vectors ----

export const VECTORS_PATH = "/work/shared/bench/paper-benchmark-vectors.json";

interface VersionVector {
  feature_version: string;
  by_field: Record<string, string>;
  code_version: string;
}

export function loadVectors(path = VECTORS_PATH): {
  versions: Record<string, VersionVector>;
  data: Record<string, { rows: Array<Record<string, any>>; mutated_count?: number }>;
} {
  return JSON.parse(readFileSync(path, "utf8"));
}

/** Feature / field / code versions of both graphs against Python Metaxy's; throws on any difference. */
export function checkVersions(vectors = loadVectors()): string[] {
  const problems: string[] = [];
  const lines: string[] = [];
  for (const name of GRAPH_NAMES) {
    const b = buildGraph(name);
    for (const def of [...b.roots.map((r) => r.def), b.leaf]) {
      const key = def.key.toString();
      const want = vectors.versions[key];
      if (!want) {
        problems.push(`${key}: not in the vectors file`);
        continue;
      }
      const got = {
        feature_version: b.graph.featureVersion(def),
        by_field: b.graph.featureVersionByField(def),
        code_version: b.graph.codeVersion(def),
      };
      if (got.feature_version !== want.feature_version)
        problems.push(`${key}: feature_version ${got.feature_version} != Python's ${want.feature_version}`);
      if (got.code_version !== want.code_version)
        problems.push(`${key}: code_version ${got.code_version} != Python's ${want.code_version}`);
      for (const [f, v] of Object.entries(want.by_field))
        if (got.by_field[f] !== v)
          problems.push(`${key}.${f}: field version ${got.by_field[f]} != Python's ${v}`);
      if (Object.keys(got.by_field).length !== Object.keys(want.by_field).length)
        problems.push(
          `${key}: fields ${Object.keys(got.by_field)} != Python's ${Object.keys(want.by_field)}`,
        );
      lines.push(`${key}=${got.feature_version}`);
    }
  }
  if (problems.length > 0)
    throw new Error(
      `Feature versions differ from Python Metaxy's (${VECTORS_PATH}):\n  ${problems.join("\n  ")}`,
    );
  return lines;
}

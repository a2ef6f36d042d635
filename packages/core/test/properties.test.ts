import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type FeatureDefinition,
  FeatureGraph,
  type FieldInput,
  MetadataStore,
  type Row,
  defineFeature,
  memory,
} from "../src/index.js";

/** A random DAG of identity features over one id column: roots first, each later feature depends on earlier ones. */
interface GraphShape {
  features: Array<{
    fields: Array<{ codeVersion: string; deps: Array<[number, number]> | null }>;
    deps: number[];
  }>;
}

const shapeArb: fc.Arbitrary<GraphShape> = fc
  .record({ roots: fc.integer({ min: 1, max: 2 }), derived: fc.integer({ min: 1, max: 3 }) })
  .chain(({ roots, derived }) => {
    const total = roots + derived;
    return fc.tuple(
      ...Array.from({ length: total }, (_, i) =>
        fc.record({
          fieldCount: fc.integer({ min: 1, max: 3 }),
          codeVersions: fc.array(fc.constantFrom("1", "2", "3"), { minLength: 3, maxLength: 3 }),
          deps:
            i < roots
              ? fc.constant([] as number[])
              : fc.uniqueArray(fc.integer({ min: 0, max: i - 1 }), { minLength: 1, maxLength: 2 }),
          picks: fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 3 }), { minLength: 3, maxLength: 3 }),
          useMapping: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
        }),
      ),
    );
  })
  .map((specs) => {
    const fieldCounts = specs.map((s) => s.fieldCount);
    return {
      features: specs.map((s) => ({
        deps: s.deps,
        fields: Array.from({ length: s.fieldCount }, (_, f) => ({
          codeVersion: s.codeVersions[f],
          // explicit field deps: picks index into the deps' fields; otherwise the default mapping (→ all)
          deps:
            s.deps.length === 0 || s.useMapping[f]
              ? null
              : s.picks[f].map((p): [number, number] => {
                  const dep = s.deps[p % s.deps.length];
                  return [dep, p % fieldCounts[dep]];
                }),
        })),
      })),
    };
  });

const key = (i: number) => `p/f${i}`;
const fieldKey = (j: number) => `x${j}`;

function buildGraph(shape: GraphShape, bump?: { feature: number; field: number }): FeatureGraph {
  const defs: FeatureDefinition[] = shape.features.map((f, i) =>
    defineFeature({
      key: key(i),
      idColumns: ["id"],
      deps: f.deps.map(key),
      fields: f.fields.map(
        (fl, j): FieldInput => ({
          key: fieldKey(j),
          codeVersion:
            bump && bump.feature === i && bump.field === j ? `${fl.codeVersion}-bumped` : fl.codeVersion,
          deps: fl.deps ? fl.deps.map(([d, df]) => ({ feature: key(d), fields: [fieldKey(df)] })) : undefined,
        }),
      ),
    }),
  );
  return new FeatureGraph(defs);
}

/** Fields (as "feature.field") that transitively depend on `start`, `start` included. */
function affectedFields(graph: FeatureGraph, start: string): Set<string> {
  const affected = new Set([start]);
  for (const k of graph.topologicalSort())
    for (const f of graph.get(k).spec.fields) {
      const id = `${k}.${f.key}`;
      if (graph.parentFields(k, f.key.toString()).some((p) => affected.has(p.toString()))) affected.add(id);
    }
  return affected;
}

async function materialiseAll(store: MetadataStore, graph: FeatureGraph, roots: Map<string, Row[]>) {
  const result = new Map<string, { new: string[]; stale: string[]; orphaned: string[] }>();
  for (const k of graph.topologicalSort()) {
    const id = k.toString();
    const inc = roots.has(id)
      ? await store.resolveUpdate(k, { samples: roots.get(id)! })
      : await store.resolveUpdate(k);
    const all = await inc.toArray();
    result.set(id, {
      new: all.new.map((r) => String(r.id)).sort(),
      stale: all.stale.map((r) => String(r.id)).sort(),
      orphaned: all.orphaned.map((r) => String(r.id)).sort(),
    });
    const rows = [...all.new, ...all.stale].map((r) => ({
      id: r.id,
      metaxy_provenance_by_field: r.metaxy_provenance_by_field,
    }));
    await store.write(k, rows);
  }
  return result;
}

function rootRows(
  _graph: FeatureGraph,
  shape: GraphShape,
  ids: number[],
  salt: (feature: number, field: number, id: number) => string,
) {
  const out = new Map<string, Row[]>();
  shape.features.forEach((f, i) => {
    if (f.deps.length > 0) return;
    out.set(
      key(i),
      ids.map((id) => ({
        id: `s${id}`,
        metaxy_provenance_by_field: Object.fromEntries(f.fields.map((_, j) => [fieldKey(j), salt(i, j, id)])),
      })),
    );
  });
  return out;
}

describe("properties", () => {
  it("a rerun with no change gives empty increments", async () => {
    await fc.assert(
      fc.asyncProperty(shapeArb, fc.integer({ min: 1, max: 8 }), async (shape, n) => {
        const graph = buildGraph(shape);
        await using store = await MetadataStore.open(memory(), { graph });
        const ids = Array.from({ length: n }, (_, i) => i);
        const roots = rootRows(graph, shape, ids, (f, j, id) => `v${f}-${j}-${id}`);
        await materialiseAll(store, graph, roots);
        const again = await materialiseAll(store, graph, roots);
        for (const [, r] of again) expect(r).toEqual({ new: [], stale: [], orphaned: [] });
      }),
      { numRuns: 40 },
    );
  });

  it("changing one root field's provenance marks stale exactly the records of fields depending on it", async () => {
    await fc.assert(
      fc.asyncProperty(
        shapeArb,
        fc.integer({ min: 2, max: 8 }),
        fc.nat(),
        fc.nat(),
        async (shape, n, rootPick, fieldPick) => {
          const graph = buildGraph(shape);
          const rootIndexes = shape.features
            .map((f, i) => (f.deps.length === 0 ? i : -1))
            .filter((i) => i >= 0);
          const root = rootIndexes[rootPick % rootIndexes.length];
          const field = fieldPick % shape.features[root].fields.length;
          await using store = await MetadataStore.open(memory(), { graph });
          const ids = Array.from({ length: n }, (_, i) => i);
          await materialiseAll(
            store,
            graph,
            rootRows(graph, shape, ids, (f, j, id) => `v${f}-${j}-${id}`),
          );
          const changed = ids.filter((id) => id % 2 === 0).map((id) => `s${id}`);
          const after = await materialiseAll(
            store,
            graph,
            rootRows(
              graph,
              shape,
              ids,
              (f, j, id) => `v${f}-${j}-${id}${f === root && j === field && id % 2 === 0 ? "-changed" : ""}`,
            ),
          );
          const affected = affectedFields(graph, `${key(root)}.${fieldKey(field)}`);
          for (const [feature, r] of after) {
            const hit = graph.get(feature).spec.fields.some((f) => affected.has(`${feature}.${f.key}`));
            expect(r, feature).toEqual({ new: [], stale: hit ? changed : [], orphaned: [] });
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("changing a field's code version changes the versions of exactly that feature and the features reading it", () => {
    fc.assert(
      fc.property(shapeArb, fc.nat(), fc.nat(), (shape, featurePick, fieldPick) => {
        const feature = featurePick % shape.features.length;
        const field = fieldPick % shape.features[feature].fields.length;
        const before = buildGraph(shape);
        const after = buildGraph(shape, { feature, field });
        const affected = affectedFields(before, `${key(feature)}.${fieldKey(field)}`);
        const downstream = new Set([key(feature), ...before.downstreamOf([key(feature)]).map(String)]);
        for (const k of before.keys) {
          const id = k.toString();
          const reads = before.get(k).spec.fields.some((f) => affected.has(`${id}.${f.key}`));
          expect(after.featureVersion(k) !== before.featureVersion(k), id).toBe(reads);
          if (reads) expect(downstream.has(id)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});

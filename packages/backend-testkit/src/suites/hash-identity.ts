import { type FeatureDefinition, HASH_ALGORITHMS, type HashAlgorithm, type Row, isIn } from "@metaxy/core";
import fc from "fast-check";
import { goldenGraph } from "../fixtures/graphs.js";
import {
  type DataShape,
  type GeneratedFeature,
  type GraphShape,
  buildRandomGraph,
  dataShapeArb,
  graphShapeArb,
  idColumnOf,
  initialRootRows,
  rootRow,
} from "../fixtures/random-graph.js";
import { collect, fieldHash, recordHash } from "../fixtures/rows.js";
import { type BackendConformanceOptions, Harness, sortRows, suiteTitle, useHarness } from "../harness.js";
import { GeneratedStoreOracle, type OracleRow, oracleRowColumns } from "../oracle/generated-store.js";
import { structKey } from "../oracle/provenance.js";
import type { Expect, TestApi } from "../test-api.js";

/** SPEC §0: provenance of examples/child.predictions for parent embeddings v1, v2, v3. */
const GOLDEN: Partial<Record<HashAlgorithm, { predictions: string[]; record?: string; root?: string }>> = {
  xxhash32: { predictions: ["24503967", "24458329", "26963083"], record: "22905516", root: "41684267" },
  sha256: { predictions: ["6a155a4c"] },
  md5: { predictions: ["3015aac6"] },
};

/**
 * Provenance strings are the testkit's own (oracle/): the SPEC vectors, then random graphs and data
 * against an independent model of the store, for every hash algorithm the backend declares.
 */
export function hashIdentitySuite(test: TestApi, options: BackendConformanceOptions): void {
  const { describe, it, expect } = test;
  describe(suiteTitle(options, "hash identity"), () => {
    const h = useHarness(test, options);
    const declares = (algo: HashAlgorithm) => (c: { hashAlgorithms: readonly HashAlgorithm[] }) =>
      c.hashAlgorithms.includes(algo);

    for (const algo of HASH_ALGORITHMS) {
      it(`matches the SPEC vectors (${algo})`, async (ctx) => {
        const backend = await h.backendWith(ctx, declares(algo), algo);
        if (!backend) return;
        const { graph, parent, child } = goldenGraph();
        expect([graph.featureVersion(parent), graph.featureVersion(child)]).toEqual(["7de0f5e8", "b10ea448"]);
        const store = await h.open(graph, { backend, hashAlgorithm: algo });
        await store.write(
          parent,
          ["v1", "v2", "v3"].map((v, i) => ({
            sample_uid: `s${i}`,
            metaxy_provenance_by_field: { embeddings: v },
          })),
        );
        const inc = await collect(await store.resolveUpdate(child));
        const rows = sortRows(inc.new, "sample_uid");
        const predictions = ["v1", "v2", "v3"].map((v) =>
          fieldHash(algo, "predictions", "__metaxy_initial__", [["examples/parent.embeddings", v]]),
        );
        expect(rows.map((r) => (r.metaxy_provenance_by_field as Row).predictions)).toEqual(predictions);
        expect(rows.map((r) => r.metaxy_provenance)).toEqual(
          predictions.map((p) => recordHash(algo, { predictions: p })),
        );
        const golden = GOLDEN[algo];
        if (golden) {
          expect(predictions.slice(0, golden.predictions.length)).toEqual(golden.predictions);
          if (golden.record) expect(rows[0].metaxy_provenance).toBe(golden.record);
          if (golden.root) {
            const [root] = await store.read(parent, { filters: "sample_uid = 's0'" });
            expect(root.metaxy_provenance).toBe(golden.root);
          }
        }
      });

      it(
        `random graphs and data: the SPEC's increments, byte for byte (${algo})`,
        async (ctx) => {
          if (!(await h.backendWith(ctx, declares(algo), algo))) return;
          await fc.assert(
            fc.asyncProperty(graphShapeArb, dataShapeArb, (shape, data) =>
              checkAgainstOracle(expect, options, algo, shape, data),
            ),
            { numRuns: h.options.numRuns },
          );
        },
        Math.max(60_000, h.options.numRuns * 10_000) * h.options.timeoutFactor,
      );
    }
  });
}

/**
 * Writes the random roots to the backend under test and to the oracle; resolves every downstream
 * feature on the backend and requires the oracle's increments, byte for byte; then writes the
 * computed rows back (so deeper features see them). Twice: once from scratch, once after updating
 * and deleting some root samples.
 */
async function checkAgainstOracle(
  expect: Expect,
  options: BackendConformanceOptions,
  algo: HashAlgorithm,
  shape: GraphShape,
  data: DataShape,
): Promise<void> {
  const h = new Harness(options);
  const { graph, roots, downstream, features } = buildRandomGraph(shape);
  const oracle = new GeneratedStoreOracle(algo, features);
  const generated = (def: FeatureDefinition) => features.find((f) => f.key === def.key.toString())!;
  try {
    const tested = await h.open(graph, { hashAlgorithm: algo });
    const compareStored = async (defs: readonly FeatureDefinition[], label: string) => {
      for (const def of defs) {
        const feature = generated(def);
        expect(
          canonical(feature, (await tested.read(def)) as Row[]),
          `${label}: stored rows of ${def.key}`,
        ).toEqual(canonicalOracle(feature, oracle.rows(feature.key)));
      }
    };
    const propagate = async (round: string) => {
      for (const def of downstream) {
        const feature = generated(def);
        const label = `${feature.key}, ${round}`;
        const expected = oracle.resolveUpdate(feature.key);
        const increment = await tested.resolveUpdate(def);
        const counts = await increment.counts();
        const progress = await increment.progress();
        const actual = await collect(increment);
        expect(counts, `${label}: counts`).toEqual({
          new: expected.new.length,
          stale: expected.stale.length,
          orphaned: expected.orphaned.length,
          failed: 0,
        });
        for (const kind of ["new", "stale", "orphaned"] as const)
          expect(canonical(feature, actual[kind]), `${label}: ${kind}`).toEqual(
            canonicalOracle(feature, expected[kind]),
          );
        expect(progress, `${label}: progress`).toEqual(expected.progress);

        const rows = [...expected.new, ...expected.stale].map((r) => writeBackRow(feature, r));
        if (rows.length > 0) {
          await tested.write(def, structuredClone(rows));
          oracle.write(feature.key, rows);
        }
        await compareStored([def], label);
      }
    };

    const initial = initialRootRows(data, roots);
    for (const [i, root] of roots.entries()) {
      await tested.write(root, structuredClone(initial[i]));
      oracle.write(root.key.toString(), initial[i]);
    }
    await compareStored(roots, "initial roots");
    await propagate(`round 1 (${algo})`);

    const { updates, deletes } = mutations(data, roots, initial);
    for (const [i, root] of roots.entries()) {
      if (updates[i].length > 0) {
        await tested.write(root, structuredClone(updates[i]));
        oracle.write(root.key.toString(), updates[i]);
      }
      if (deletes[i].length > 0) {
        await tested.delete(root, isIn("sample_uid", deletes[i]));
        oracle.delete(root.key.toString(), deletes[i]);
      }
    }
    await compareStored(roots, "mutated roots");
    await propagate(`round 2 (${algo})`);
  } finally {
    await h.teardown();
  }
}

/** What must be byte-identical: ids and the four provenance / data-version columns. */
function canonical(feature: GeneratedFeature, rows: readonly Row[]): Row[] {
  const id = idColumnOf(feature);
  return sortRows(
    rows.map((r) => ({
      [id]: r[id],
      metaxy_provenance: r.metaxy_provenance,
      metaxy_provenance_by_field: r.metaxy_provenance_by_field,
      metaxy_data_version: r.metaxy_data_version,
      metaxy_data_version_by_field: r.metaxy_data_version_by_field,
    })),
    id,
  );
}

function canonicalOracle(feature: GeneratedFeature, rows: readonly OracleRow[]): Row[] {
  return canonical(
    feature,
    rows.map((r) => oracleRowColumns(feature, r)),
  );
}

/**
 * The "computed" downstream row: ids and provenance, with a user data-version override on some
 * rows (a content hash, say), so that downstream provenance must hash data versions.
 */
function writeBackRow(feature: GeneratedFeature, row: OracleRow): Row {
  const out: Row = { [idColumnOf(feature)]: row.id, metaxy_provenance_by_field: row.provenanceByField };
  if (row.group !== null) out.group_id = row.group;
  let sum = 0;
  for (const ch of row.provenance) sum += ch.codePointAt(0)!;
  if (sum % 3 === 0)
    out.metaxy_data_version_by_field = { [structKey(feature.fields[0].key)]: `dv|${row.provenance}` };
  return out;
}

/** Round-2 root changes: new provenance for some samples (absent ones are added), some deletes. */
function mutations(
  data: DataShape,
  roots: readonly FeatureDefinition[],
  initial: readonly Row[][],
): { updates: Row[][]; deletes: string[][] } {
  const state = roots.map((_, r) => {
    const present = new Map<number, string[]>();
    for (const row of initial[r]) {
      const s = data.samples.indexOf(row.sample_uid as string);
      present.set(s, data.roots[r].values[s]);
    }
    return present;
  });
  const updates = new Map<string, Row>();
  const deletes = roots.map(() => new Set<string>());
  for (const m of data.mutations) {
    const r = m.root % roots.length;
    const s = m.sample % data.samples.length;
    if (m.kind === "delete") {
      if (s !== 0 && state[r].has(s)) deletes[r].add(data.samples[s]);
      continue;
    }
    const base = state[r].get(s) ?? data.roots[r].values[s];
    const values = base.map((v, i) => m.values[i] ?? v);
    state[r].set(s, values);
    updates.set(`${r}:${s}`, rootRow(data, roots[r], r, s, values));
  }
  return {
    updates: roots.map((_, r) =>
      [...updates.entries()].filter(([k]) => k.startsWith(`${r}:`)).map(([, row]) => row),
    ),
    deletes: deletes.map((d) => [...d]),
  };
}

import {
  type Backend,
  type FeatureDefinition,
  HASH_ALGORITHMS,
  type HashAlgorithm,
  type LoadRows,
  MetadataStore,
  type ResolveUpdatePlan,
  type Row,
  evaluateResolveUpdate,
  isIn,
  memory,
  tupleKey,
} from "@metaxy/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { goldenGraph } from "../fixtures/graphs.js";
import {
  type DataShape,
  type GraphShape,
  buildRandomGraph,
  dataShapeArb,
  graphShapeArb,
  initialRootRows,
  rootRow,
} from "../fixtures/random-graph.js";
import { collect, fieldHash, recordHash } from "../fixtures/rows.js";
import { Harness, type ResolvedOptions, sortRows, useHarness } from "../harness.js";

/** SPEC §0: provenance of examples/child.predictions for parent embeddings v1, v2, v3. */
const GOLDEN: Partial<Record<HashAlgorithm, { predictions: string[]; record?: string; root?: string }>> = {
  xxhash32: { predictions: ["24503967", "24458329", "26963083"], record: "22905516", root: "41684267" },
  sha256: { predictions: ["6a155a4c"] },
  md5: { predictions: ["3015aac6"] },
};

export function hashIdentitySuite(options: ResolvedOptions): void {
  describe("hash identity", () => {
    const h = useHarness(options);

    /** Skips the test when the backend under test does not declare `algo`. */
    async function supported(algo: HashAlgorithm, skip: (note?: string) => void): Promise<Backend> {
      const backend = await h.backend();
      if (!h.algorithms(backend).includes(algo)) skip(`${options.name} does not declare ${algo}`);
      return backend;
    }

    for (const algo of HASH_ALGORITHMS) {
      it(`matches the SPEC vectors (${algo})`, async (ctx) => {
        const backend = await supported(algo, (note) => ctx.skip(note));
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
        `random graphs and data: byte-identical to the reference engine (${algo})`,
        async (ctx) => {
          await supported(algo, (note) => ctx.skip(note));
          await fc.assert(
            fc.asyncProperty(graphShapeArb, dataShapeArb, (shape, data) =>
              checkAgainstReference(options, algo, shape, data),
            ),
            { numRuns: options.numRuns },
          );
        },
        Math.max(60_000, options.numRuns * 10_000),
      );
    }
  });
}

/**
 * Writes the random roots to the backend under test and, identically, to an in-memory mirror;
 * resolves every downstream feature on the backend and with the reference engine over the mirror;
 * requires identical increments, then writes the computed rows back to both (so deeper features
 * see them). Twice: once from scratch, once after updating and deleting some root samples.
 */
async function checkAgainstReference(
  options: ResolvedOptions,
  algo: HashAlgorithm,
  shape: GraphShape,
  data: DataShape,
): Promise<void> {
  const h = new Harness(options);
  const mirrorBackend = memory({ name: "reference" });
  const { graph, roots, downstream } = buildRandomGraph(shape);
  const mirror = await MetadataStore.open(mirrorBackend, { graph, hashAlgorithm: algo });
  try {
    const tested = await h.open(graph, { hashAlgorithm: algo });
    const both = async (fn: (store: MetadataStore) => Promise<unknown>) => {
      await fn(tested);
      await fn(mirror);
    };
    const load = loadFrom(mirrorBackend);

    const initial = initialRootRows(data, roots);
    for (const [i, root] of roots.entries()) await both((s) => s.write(root, structuredClone(initial[i])));
    await compareStored(tested, mirror, roots, "initial roots");
    await propagate(tested, mirror, downstream, load, `round 1 (${algo})`);

    const { updates, deletes } = mutations(data, roots, initial);
    for (const [i, root] of roots.entries()) {
      if (updates[i].length > 0) await both((s) => s.write(root, structuredClone(updates[i])));
      if (deletes[i].length > 0) await both((s) => s.delete(root, isIn("sample_uid", deletes[i])));
    }
    await compareStored(tested, mirror, roots, "mutated roots");
    await propagate(tested, mirror, downstream, load, `round 2 (${algo})`);
  } finally {
    await mirror.close();
    await h.teardown();
  }
}

async function propagate(
  tested: MetadataStore,
  mirror: MetadataStore,
  downstream: readonly FeatureDefinition[],
  load: LoadRows,
  round: string,
): Promise<void> {
  for (const def of downstream) {
    const key = def.key.toString();
    const label = `${key}, ${round}`;
    const plan = await tested.planResolveUpdate(key);
    const expected = await evaluateResolveUpdate(plan, load);

    const increment = await tested.resolveUpdate(key);
    const counts = await increment.counts();
    const progress = await increment.progress();
    const actual = await collect(increment);

    expect(counts, `${label}: counts`).toEqual({
      new: expected.new.length,
      stale: expected.stale.length,
      orphaned: expected.orphaned.length,
    });
    for (const kind of ["new", "stale", "orphaned"] as const)
      expect(canonical(actual[kind], plan), `${label}: ${kind}`).toEqual(canonical(expected[kind], plan));
    expect(progress, `${label}: progress`).toEqual(progressOf(expected, plan));

    const rows = [...expected.new, ...expected.stale].map((r) => writeBackRow(r, def));
    if (rows.length > 0) {
      await tested.write(key, structuredClone(rows));
      await mirror.write(key, structuredClone(rows));
    }
    await compareStored(tested, mirror, [def], label);
  }
}

/** The reference engine reads the mirror through the same `readLatest` semantics. */
function loadFrom(backend: Backend): LoadRows {
  return async (query) => {
    if (!(await backend.tableExists(query.table))) return null;
    const rows: Row[] = [];
    for await (const batch of backend.read(query, 10_000)) rows.push(...batch);
    return rows;
  };
}

/** What must be byte-identical: ids and the four provenance / data-version columns. */
function canonical(rows: readonly Row[], plan: ResolveUpdatePlan): Row[] {
  const ids = plan.diffColumns;
  return rows
    .map((r) => ({
      ids: ids.map((c) => r[c]),
      metaxy_provenance: r.metaxy_provenance,
      metaxy_provenance_by_field: r.metaxy_provenance_by_field,
      metaxy_data_version: r.metaxy_data_version,
      metaxy_data_version_by_field: r.metaxy_data_version_by_field,
    }))
    .sort((a, b) => {
      const ka = tupleKey(a, ["ids"]);
      const kb = tupleKey(b, ["ids"]);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
}

async function compareStored(
  tested: MetadataStore,
  mirror: MetadataStore,
  features: readonly FeatureDefinition[],
  label: string,
): Promise<void> {
  for (const def of features) {
    const pseudoPlan = { diffColumns: def.spec.idColumns } as unknown as ResolveUpdatePlan;
    const got = canonical((await tested.read(def)) as Row[], pseudoPlan);
    const want = canonical((await mirror.read(def)) as Row[], pseudoPlan);
    expect(got, `${label}: stored rows of ${def.key}`).toEqual(want);
  }
}

function progressOf(
  expected: { new: readonly Row[]; input: readonly Row[] | null },
  plan: ResolveUpdatePlan,
): number | null {
  if (!expected.input) return null;
  const total = new Set(expected.input.map((r) => tupleKey(r, plan.diffColumns))).size;
  if (total === 0) return null;
  const missing = new Set(expected.new.map((r) => tupleKey(r, plan.diffColumns))).size;
  return ((total - missing) / total) * 100;
}

/**
 * The "computed" downstream row: the increment row as is, with a user data-version override on
 * some rows (a content hash, say), so that downstream provenance must hash data versions.
 */
function writeBackRow(row: Row, def: FeatureDefinition): Row {
  const { metaxy_data_version: _dv, metaxy_data_version_by_field: _dvbf, ...out } = row;
  const provenance = String(row.metaxy_provenance);
  let sum = 0;
  for (const ch of provenance) sum += ch.codePointAt(0)!;
  if (sum % 3 === 0)
    out.metaxy_data_version_by_field = { [def.spec.fields[0].key.toStructKey()]: `dv|${provenance}` };
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

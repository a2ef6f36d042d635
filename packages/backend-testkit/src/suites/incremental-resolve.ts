import { type Backend, FeatureGraph, Lineage, type MetadataStore, type Row } from "@metaxy/core";
import fc from "fast-check";
import { feature } from "../fixtures/graphs.js";
import { z } from "zod";
import { type BackendConformanceOptions, Harness, suiteTitle, useHarness } from "../harness.js";
import type { Expect, TestApi } from "../test-api.js";

/**
 * Every lineage kind in one graph: inc/sample → inc/clip (identity, field-level) → inc/summary
 * (with the optional root inc/note, left join); inc/sample → inc/group (aggregation on the
 * non-id column group_id, so members change group); inc/video → inc/chunk (expansion).
 * `clipVersion` is the code version of inc/clip's field (a code bump).
 */
function incrementalGraph(clipVersion: string) {
  const sample = feature({
    key: "inc/sample",
    idColumns: ["sample_uid"],
    fields: [
      { key: "audio", codeVersion: "1" },
      { key: "frames", codeVersion: "1" },
    ],
    schema: z.object({ sample_uid: z.string(), group_id: z.string() }),
  });
  const clip = feature({
    key: "inc/clip",
    idColumns: ["sample_uid"],
    deps: [sample],
    fields: [{ key: "text", codeVersion: clipVersion, deps: [{ feature: sample, fields: ["audio"] }] }],
    schema: z.object({ sample_uid: z.string() }),
  });
  const note = feature({
    key: "inc/note",
    idColumns: ["sample_uid"],
    fields: [{ key: "default", codeVersion: "1" }],
    schema: z.object({ sample_uid: z.string() }),
  });
  const summary = feature({
    key: "inc/summary",
    idColumns: ["sample_uid"],
    deps: [{ feature: clip }, { feature: note, optional: true }],
    fields: [{ key: "default", codeVersion: "1" }],
    schema: z.object({ sample_uid: z.string() }),
  });
  const group = feature({
    key: "inc/group",
    idColumns: ["group_id"],
    deps: [{ feature: sample, lineage: Lineage.aggregation({ on: ["group_id"] }) }],
    fields: [{ key: "default", codeVersion: "1" }],
    schema: z.object({ group_id: z.string() }),
  });
  const video = feature({
    key: "inc/video",
    idColumns: ["video_id"],
    fields: [{ key: "default", codeVersion: "1" }],
    schema: z.object({ video_id: z.string() }),
  });
  const chunk = feature({
    key: "inc/chunk",
    idColumns: ["chunk_id"],
    deps: [{ feature: video, lineage: Lineage.expansion({ on: ["video_id"] }) }],
    fields: [{ key: "default", codeVersion: "1" }],
    schema: z.object({ chunk_id: z.string(), video_id: z.string() }),
  });
  return new FeatureGraph([sample, clip, note, summary, group, video, chunk]);
}

const TARGETS = ["inc/clip", "inc/summary", "inc/group", "inc/chunk"] as const;
type Target = (typeof TARGETS)[number];
const ROOTS = ["inc/sample", "inc/note", "inc/video"] as const;
const SAMPLES = ["s0", "s1", "s2", "s3", "s4", "s5"];
const VIDEOS = ["v0", "v1", "v2"];
const GROUPS = ["g0", "g1", "g2"];
const TAGS = ["a", "b", "c"];

const idsArb = (ids: readonly string[]) => fc.subarray([...ids], { minLength: 1 });
const opArb = fc.oneof(
  fc.record({
    kind: fc.constant("writeSamples" as const),
    ids: idsArb(SAMPLES),
    group: fc.constantFrom(...GROUPS),
    tag: fc.constantFrom(...TAGS),
  }),
  fc.record({
    kind: fc.constant("writeNotes" as const),
    ids: idsArb(SAMPLES),
    tag: fc.constantFrom(...TAGS),
  }),
  fc.record({
    kind: fc.constant("writeVideos" as const),
    ids: idsArb(VIDEOS),
    tag: fc.constantFrom(...TAGS),
  }),
  fc.record({
    kind: fc.constantFrom("softDelete" as const, "hardDelete" as const),
    root: fc.constantFrom(...ROOTS),
    pick: fc.integer({ min: 0, max: 5 }),
  }),
  fc.record({
    kind: fc.constant("process" as const),
    target: fc.constantFrom(...TARGETS),
    every: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({
    kind: fc.constant("deleteTarget" as const),
    target: fc.constantFrom(...TARGETS),
    pick: fc.integer({ min: 0, max: 5 }),
  }),
  fc.record({ kind: fc.constant("fail" as const), target: fc.constantFrom(...TARGETS) }),
  fc.record({ kind: fc.constant("bump" as const), version: fc.constantFrom("1", "2") }),
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

const ID_COLUMNS: Record<string, string> = {
  "inc/sample": "sample_uid",
  "inc/note": "sample_uid",
  "inc/video": "video_id",
  "inc/clip": "sample_uid",
  "inc/summary": "sample_uid",
  "inc/group": "group_id",
  "inc/chunk": "chunk_id",
};

/** Increment rows of every kind, order-free and comparable. */
async function canonical(store: MetadataStore, target: Target, incremental: boolean) {
  const inc = await store.resolveUpdate(target, { incremental });
  const all = await inc.toArray();
  const progress = await inc.progress();
  await inc.dispose();
  const norm = (v: unknown): unknown =>
    v instanceof Date
      ? v.toISOString()
      : typeof v === "bigint"
        ? `${v}n`
        : v && typeof v === "object"
          ? sortKeys(v as Row)
          : v;
  const sortKeys = (r: Row) =>
    Object.fromEntries(
      Object.keys(r)
        .sort()
        .map((k) => [k, norm(r[k])]),
    );
  // An expansion's orphans are its parents' collapsed children, each column any child's value:
  // compared by parent key, as two full resolves may pick different children.
  const shown = (kind: string, r: Row) =>
    target === "inc/chunk" && kind === "orphaned" ? { video_id: r.video_id } : r;
  const kinds = Object.fromEntries(
    Object.entries(all).map(([k, rows]) => [
      k,
      rows.map((r) => JSON.stringify(sortKeys(shown(k, r as Row)))).sort(),
    ]),
  );
  return { mode: inc.mode, reason: inc.reason, kinds: { ...kinds, progress } };
}

/** Ids of stored rows, every `pick + 2`-th one from `pick % 2`: a random, reproducible subset. */
async function someIds(store: MetadataStore, key: string, pick: number): Promise<string[]> {
  const col = ID_COLUMNS[key];
  if (!(await store.hasFeature(key))) return [];
  const ids = ((await store.read(key)) as Row[]).map((r) => String(r[col])).sort();
  return ids.filter((_, i) => i % (pick + 2) === pick % 2);
}

const inList = (col: string, ids: readonly string[]) => `${col} IN (${ids.map((i) => `'${i}'`).join(", ")})`;

async function apply(store: MetadataStore, op: Op): Promise<void> {
  const pbf = (id: string, tag: string) => ({ default: `${id}-${tag}` });
  switch (op.kind) {
    case "writeSamples":
      await store.write(
        "inc/sample",
        op.ids.map((id) => ({
          sample_uid: id,
          group_id: op.group,
          metaxy_provenance_by_field: { audio: `${id}-${op.tag}`, frames: `${id}-f` },
        })),
      );
      return;
    case "writeNotes":
      await store.write(
        "inc/note",
        op.ids.map((id) => ({ sample_uid: id, metaxy_provenance_by_field: pbf(id, op.tag) })),
      );
      return;
    case "writeVideos":
      await store.write(
        "inc/video",
        op.ids.map((id) => ({ video_id: id, metaxy_provenance_by_field: pbf(id, op.tag) })),
      );
      return;
    case "softDelete":
    case "hardDelete":
    case "deleteTarget": {
      const key = op.kind === "deleteTarget" ? op.target : op.root;
      const ids = await someIds(store, key, op.pick);
      if (ids.length > 0)
        await store.delete(key, inList(ID_COLUMNS[key], ids), { soft: op.kind !== "hardDelete" });
      return;
    }
    case "process": {
      // Partial processing: every `every`-th row to process is computed and written.
      const inc = await store.resolveUpdate(op.target, { incremental: false });
      const rows: Row[] = [];
      for await (const batch of inc.toProcess()) rows.push(...(batch as Row[]));
      await inc.dispose();
      const chosen = rows.filter((_, i) => i % op.every === 0);
      const out =
        op.target === "inc/chunk"
          ? chosen.flatMap((r) =>
              [0, 1].map((k) => ({
                chunk_id: `${r.video_id}-${k}`,
                video_id: r.video_id,
                metaxy_provenance_by_field: r.metaxy_provenance_by_field,
              })),
            )
          : chosen.map((r) => ({
              [ID_COLUMNS[op.target]]: r[ID_COLUMNS[op.target]],
              metaxy_provenance_by_field: r.metaxy_provenance_by_field,
            }));
      if (out.length > 0) await store.write(op.target, out);
      return;
    }
    case "fail": {
      const inc = await store.resolveUpdate(op.target, { incremental: false });
      const first: Row[] = [];
      for await (const batch of inc.toProcess({ batchSize: 1 })) {
        first.push(...(batch as Row[]));
        break;
      }
      await inc.dispose();
      if (first.length > 0)
        await store.recordFailures(op.target, first, { error: "model crashed", attempts: 3 });
      return;
    }
    case "bump":
      return;
  }
}

/** Runs `ops`, and after each one requires incremental == full for every target. Returns the modes seen. */
async function checkSequence(
  expect: Expect,
  options: BackendConformanceOptions,
  ops: readonly Op[],
  modes: { incremental: number; full: number },
): Promise<void> {
  const h = new Harness(options);
  try {
    const backend = await h.backend();
    const stores = new Map<string, MetadataStore>();
    const storeFor = async (version: string) => {
      let s = stores.get(version);
      if (!s) {
        s = await h.open(incrementalGraph(version), { backend });
        stores.set(version, s);
      }
      return s;
    };
    let store = await storeFor("1");
    // Every root, and inc/clip (inc/summary's upstream), has rows before the random steps.
    const seed: Op[] = [
      { kind: "writeSamples", ids: SAMPLES.slice(0, 4), group: "g0", tag: "a" },
      { kind: "writeNotes", ids: SAMPLES.slice(2), tag: "a" },
      { kind: "writeVideos", ids: VIDEOS.slice(0, 2), tag: "a" },
      { kind: "process", target: "inc/clip", every: 2 },
      { kind: "process", target: "inc/group", every: 1 },
      { kind: "process", target: "inc/chunk", every: 1 },
    ];
    for (const op of seed) await apply(store, op);
    for (const [step, op] of ops.entries()) {
      if (op.kind === "bump") store = await storeFor(op.version);
      else await apply(store, op);
      for (const target of TARGETS) {
        const incremental = await canonical(store, target, true);
        const full = await canonical(store, target, false);
        modes[incremental.mode]++;
        expect(
          incremental.kinds,
          `step ${step} (${JSON.stringify(op)}), ${target}, ${incremental.mode}: ${incremental.reason}`,
        ).toEqual(full.kinds);
      }
    }
  } finally {
    await h.teardown();
  }
}

const supports = (backend: Backend) => typeof backend.tableMarks === "function";

/**
 * Incremental resolves (resolve-checkpoints.ts): after every step of random writes, soft and hard
 * deletes, partial processing, failures and code bumps, an incremental resolve returns exactly
 * what the full resolve returns; and it falls back to full, saying why, when it must.
 */
export function incrementalResolveSuite(test: TestApi, options: BackendConformanceOptions): void {
  const { describe, it, expect } = test;
  describe(suiteTitle(options, "incremental resolve"), () => {
    const h = useHarness(test, options);
    const runs = Math.max(2, Math.ceil((options.numRuns ?? 25) / 3));

    it(
      "random sequences: incremental equals full after every step, every lineage kind",
      async (ctx) => {
        if (!supports(await h.backend())) return ctx.skip?.(`${options.name} has no incremental resolve`);
        const modes = { incremental: 0, full: 0 };
        await fc.assert(
          fc.asyncProperty(fc.array(opArb, { minLength: 4, maxLength: 12 }), (ops) =>
            checkSequence(expect, options, ops, modes),
          ),
          { numRuns: runs },
        );
        // The property is about the incremental path: it must have been taken, and often.
        expect(modes.incremental).toBeGreaterThan(modes.full / 4);
      },
      Math.max(120_000, runs * 40_000) * h.options.timeoutFactor,
    );

    it("nothing changed: incremental and empty; one changed row: only its key", async (ctx) => {
      const backend = await h.backend();
      if (!supports(backend)) return ctx.skip?.(`${options.name} has no incremental resolve`);
      const store = await h.open(incrementalGraph("1"), { backend });
      await apply(store, { kind: "writeSamples", ids: SAMPLES, group: "g0", tag: "a" });
      const first = await store.resolveUpdate("inc/clip");
      expect([first.mode, first.reason]).toEqual(["full", "no checkpoint yet for this plan"]);
      await first.dispose();
      await apply(store, { kind: "process", target: "inc/clip", every: 1 });
      const processed = await store.resolveUpdate("inc/clip");
      expect([processed.mode, processed.reason]).toEqual(["incremental", null]);
      expect(await processed.counts()).toEqual({ new: 0, stale: 0, orphaned: 0, failed: 0 });
      await processed.dispose();
      const idle = await store.resolveUpdate("inc/clip");
      expect([idle.mode, await idle.isEmpty()]).toEqual(["incremental", true]);
      await idle.dispose();
      await apply(store, { kind: "writeSamples", ids: ["s3"], group: "g0", tag: "b" });
      const one = await store.resolveUpdate("inc/clip");
      const rows = await one.toArray();
      expect([one.mode, rows.stale.map((r) => r.sample_uid), rows.new.length]).toEqual([
        "incremental",
        ["s3"],
        0,
      ]);
      await one.dispose();
      // A frames-only change leaves the audio-only clip alone, incrementally too.
      await store.write("inc/sample", [
        { sample_uid: "s4", group_id: "g0", metaxy_provenance_by_field: { audio: "s4-a", frames: "s4-new" } },
      ]);
      const framesOnly = await store.resolveUpdate("inc/clip");
      expect([framesOnly.mode, (await framesOnly.toArray()).stale.map((r) => r.sample_uid)]).toEqual([
        "incremental",
        ["s3"],
      ]);
      await framesOnly.dispose();
    });

    it("falls back to a full resolve and says why", async (ctx) => {
      const backend = await h.backend();
      if (!supports(backend)) return ctx.skip?.(`${options.name} has no incremental resolve`);
      const store = await h.open(incrementalGraph("1"), { backend });
      await apply(store, { kind: "writeSamples", ids: SAMPLES, group: "g0", tag: "a" });
      await apply(store, { kind: "process", target: "inc/clip", every: 1 });
      const resolve = async (options = {}) => {
        const inc = await store.resolveUpdate("inc/clip", options);
        await inc.dispose();
        return [inc.mode, inc.reason];
      };
      await resolve();
      expect(await resolve({ incremental: false })).toEqual([
        "full",
        "incremental resolve turned off for this call",
      ]);
      expect((await resolve())[0]).toBe("incremental");

      await store.delete("inc/sample", "sample_uid = 's1'", { soft: false });
      expect(await resolve()).toEqual(["full", `1 rows of "inc__sample" were deleted since the checkpoint`]);
      expect((await resolve())[0]).toBe("incremental");

      // A row written with an older metaxy_updated_at (another writer's clock) is below the mark.
      const [stored] = (await store.read("inc/sample", { filters: "sample_uid = 's2'" })) as Row[];
      const schema = (await store.backend.tableSchema("inc__sample"))!;
      await store.backend.write([
        {
          table: "inc__sample",
          feature: "inc/sample",
          schema,
          rows: [
            { ...stored, metaxy_provenance: "older", metaxy_updated_at: new Date(Date.UTC(2020, 0, 1)) },
          ],
        },
      ]);
      expect(await resolve()).toEqual([
        "full",
        `1 rows of "inc__sample" were written with a metaxy_updated_at at or before the checkpoint`,
      ]);

      const bumped = await h.open(incrementalGraph("2"), { backend });
      const after = await bumped.resolveUpdate("inc/clip");
      expect([after.mode, after.reason]).toEqual([
        "full",
        "the plan changed since the last checkpoint (a code or feature version, filters or options)",
      ]);
      expect((await after.counts()).new).toBe(SAMPLES.length - 1);
      await after.dispose();
      const filtered = await store.resolveUpdate("inc/clip", { globalFilters: "sample_uid != 's0'" });
      expect(filtered.mode).toBe("full");
      await filtered.dispose();
    });
  });
}

import {
  type Backend,
  type ExpectedFromUpstreams,
  FeatureGraph,
  Lineage,
  MetadataStore,
  type ResolveUpdatePlan,
  type Row,
  defineFeature,
} from "@metaxy/core";
import { evaluateResolveUpdate } from "@metaxy/core/backend";
import { describe, expect, it } from "vitest";
import { compileResolveUpdate, duckdb } from "../src/index.js";

const raw = defineFeature({ key: "video/raw", idColumns: ["sample_uid"], fields: ["audio"] });
const captions = defineFeature({ key: "video/captions", idColumns: ["sample_uid"], fields: ["text"] });
const summary = defineFeature({
  key: "video/summary",
  idColumns: ["sample_uid"],
  deps: [raw, { feature: captions, optional: true }],
  fields: [{ key: "summary", deps: "ALL" }],
});
const recording = defineFeature({ key: "audio/recording", idColumns: ["recording_id"], fields: ["default"] });
const speaker = defineFeature({
  key: "speaker/embedding",
  idColumns: ["speaker_id"],
  deps: [{ feature: recording, lineage: Lineage.aggregation({ on: ["speaker_id"] }) }],
  fields: ["embedding"],
});
const graph = new FeatureGraph([raw, captions, summary, recording, speaker]);

function edit(plan: ResolveUpdatePlan, change: (e: ExpectedFromUpstreams) => ExpectedFromUpstreams) {
  if (plan.expected.kind !== "upstreams") throw new Error("expected rows from upstreams");
  return { ...plan, expected: change(plan.expected) };
}

/** The increment's new rows from DuckDB and from the reference engine, on the same stored rows. */
async function bothEngines(backend: Backend, plan: ResolveUpdatePlan): Promise<[Row[], Row[]]> {
  const source = await backend.resolveUpdate(plan);
  const fromDuckdb: Row[] = [];
  for await (const batch of source.rows("new", 100)) fromDuckdb.push(...batch);
  await source.dispose();
  const reference = await evaluateResolveUpdate(plan, async (q) => {
    if (!(await backend.tableExists(q.table))) return null;
    const rows: Row[] = [];
    for await (const batch of backend.read(q, 100)) rows.push(...batch);
    return rows;
  });
  const sorted = (rows: Row[]) =>
    [...rows].sort((a, b) => String(a.metaxy_provenance).localeCompare(String(b.metaxy_provenance)));
  return [sorted(fromDuckdb), sorted(reference.new)];
}

describe("the DuckDB compiler interprets the plan", () => {
  it("join kinds, joined columns and aggregation order come from the plan alone", async () => {
    const backend = duckdb();
    await using store = await MetadataStore.open(backend, { graph, hashAlgorithm: "md5" });
    const pbf = (field: string, v: string) => ({ metaxy_provenance_by_field: { [field]: v } });
    await store.write(
      raw,
      [0, 1].map((i) => ({ sample_uid: `s${i}`, path: `/${i}`, ...pbf("audio", `a${i}`) })),
    );
    await store.write(captions, [{ sample_uid: "s0", lang: "en", ...pbf("text", "c0") }]);
    await store.write(recording, [
      { recording_id: "r1", speaker_id: "sp", rank: 2, ...pbf("default", "p1") },
      { recording_id: "r2", speaker_id: "sp", rank: 1, ...pbf("default", "p2") },
    ]);

    const left = await store.planResolveUpdate(summary);
    expect(
      compileResolveUpdate(left, {
        upstreams: [
          { relation: "a", raw: false },
          { relation: "b", raw: false },
        ],
        current: null,
      }).sql,
    ).toContain("LEFT JOIN u1 AS t1");
    const inner = edit(left, (e) => ({
      ...e,
      upstreams: e.upstreams.map((u, i) => (i === 1 ? { ...u, join: "inner" } : u)),
      joinedColumns: e.joinedColumns.filter((c) => c.name !== "path"),
      columns: e.columns.filter((c) => c !== "path"),
    }));
    const [duck, reference] = await bothEngines(backend, inner);
    expect(duck.map((r) => [r.sample_uid, r.lang, "path" in r])).toEqual([["s0", "en", false]]);
    expect(duck).toEqual(reference);

    const aggregated = await store.planResolveUpdate(speaker);
    const byRank = edit(aggregated, (e) => ({
      ...e,
      upstreams: e.upstreams.map((u) =>
        u.lineage.type === "aggregation" ? { ...u, lineage: { ...u.lineage, orderBy: ["rank"] } } : u,
      ),
    }));
    const [byId] = await bothEngines(backend, aggregated);
    const [ranked, rankedReference] = await bothEngines(backend, byRank);
    expect(ranked).toEqual(rankedReference);
    expect(ranked[0].metaxy_provenance).not.toBe(byId[0].metaxy_provenance);
  });
});

import { describe, expect, it } from "vitest";
import { FeatureGraph } from "../graph/feature-graph.js";
import { buildResolveUpdatePlan } from "../plan/build-plan.js";
import type { ReadQuery } from "../plan/read-query.js";
import type { ExpectedFromUpstreams, ResolveUpdatePlan, Row } from "../plan/resolve-update-plan.js";
import { defineFeature } from "../spec/define-feature.js";
import { Lineage } from "../spec/lineage.js";
import { SYSTEM_COLUMNS } from "../spec/system-columns.js";
import { evaluateResolveUpdate } from "./reference-engine.js";

/** Stored rows per table; every row of the current feature versions, live. */
function loader(tables: Record<string, Row[]>) {
  return async (q: ReadQuery) => tables[q.table] ?? null;
}

const row = (ids: Row, field: string, value: string, extra: Row = {}): Row => ({
  ...ids,
  ...extra,
  metaxy_provenance_by_field: { [field]: value },
  metaxy_data_version_by_field: { [field]: value },
});

function withExpected(plan: ResolveUpdatePlan, edit: (e: ExpectedFromUpstreams) => ExpectedFromUpstreams) {
  if (plan.expected.kind !== "upstreams") throw new Error("expected rows from upstreams");
  return { ...plan, expected: edit(plan.expected) };
}

describe("the reference engine interprets the plan", () => {
  const raw = defineFeature({ key: "video/raw", idColumns: ["sample_uid"], fields: ["audio"] });
  const captions = defineFeature({ key: "video/captions", idColumns: ["sample_uid"], fields: ["text"] });
  const summary = defineFeature({
    key: "video/summary",
    idColumns: ["sample_uid"],
    deps: [raw, { feature: captions, optional: true }],
    fields: [{ key: "summary", deps: "ALL" }],
  });
  const graph = new FeatureGraph([raw, captions, summary]);
  const plan = buildResolveUpdatePlan(graph, summary.key, {
    hashAlgorithm: "md5",
    truncation: 8,
    upstreams: [
      { columns: ["sample_uid", "path", ...SYSTEM_COLUMNS] },
      { columns: ["sample_uid", "lang", ...SYSTEM_COLUMNS] },
    ],
  });
  const load = loader({
    video__raw: [0, 1].map((i) => row({ sample_uid: `s${i}` }, "audio", `a${i}`, { path: `/${i}` })),
    video__captions: [row({ sample_uid: "s0" }, "text", "c0", { lang: "en" })],
  });

  it("joins by the kind and takes the columns the plan states", async () => {
    const left = await evaluateResolveUpdate(plan, load);
    expect(left.new.map((r) => [r.sample_uid, r.path, r.lang])).toEqual([
      ["s0", "/0", "en"],
      ["s1", "/1", null],
    ]);
    const inner = withExpected(plan, (e) => ({
      ...e,
      upstreams: e.upstreams.map((u, i) => (i === 1 ? { ...u, join: "inner" } : u)),
      joinedColumns: e.joinedColumns.filter((c) => c.name !== "path"),
      columns: e.columns.filter((c) => c !== "path"),
    }));
    const result = await evaluateResolveUpdate(inner, load);
    expect(result.new.map((r) => Object.keys(r).sort())).toEqual([
      [
        "lang",
        "metaxy_data_version",
        "metaxy_data_version_by_field",
        "metaxy_provenance",
        "metaxy_provenance_by_field",
        "sample_uid",
      ],
    ]);
    // same provenance for the row both joins keep
    expect(result.new[0].metaxy_provenance).toBe(left.new[0].metaxy_provenance);
  });

  it("concatenates aggregation members in the plan's order", async () => {
    const recording = defineFeature({
      key: "audio/recording",
      idColumns: ["recording_id"],
      fields: ["default"],
    });
    const speaker = defineFeature({
      key: "speaker/embedding",
      idColumns: ["speaker_id"],
      deps: [{ feature: recording, lineage: Lineage.aggregation({ on: ["speaker_id"] }) }],
      fields: ["embedding"],
    });
    const aggregated = buildResolveUpdatePlan(new FeatureGraph([recording, speaker]), speaker.key, {
      hashAlgorithm: "md5",
      truncation: 8,
      upstreams: [{ columns: ["recording_id", "speaker_id", "rank", ...SYSTEM_COLUMNS] }],
    });
    const members = loader({
      audio__recording: [
        row({ recording_id: "r1" }, "default", "p1", { speaker_id: "sp", rank: 2 }),
        row({ recording_id: "r2" }, "default", "p2", { speaker_id: "sp", rank: 1 }),
      ],
    });
    const byRank = withExpected(aggregated, (e) => ({
      ...e,
      upstreams: e.upstreams.map((u) =>
        u.lineage.type === "aggregation" ? { ...u, lineage: { ...u.lineage, orderBy: ["rank"] } } : u,
      ),
    }));
    const byId = (await evaluateResolveUpdate(aggregated, members)).new;
    const ranked = (await evaluateResolveUpdate(byRank, members)).new;
    expect(byId.map((r) => r.speaker_id)).toEqual(["sp"]);
    expect(ranked[0].metaxy_provenance).not.toBe(byId[0].metaxy_provenance);
    // swapping the members' ranks gives back the id order
    const swapped = loader({
      audio__recording: [
        row({ recording_id: "r1" }, "default", "p1", { speaker_id: "sp", rank: 1 }),
        row({ recording_id: "r2" }, "default", "p2", { speaker_id: "sp", rank: 2 }),
      ],
    });
    expect((await evaluateResolveUpdate(byRank, swapped)).new[0].metaxy_provenance).toBe(
      byId[0].metaxy_provenance,
    );
  });
});

import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ColumnCollisionError, FeatureNotFoundError, FieldNotFoundError } from "../errors.js";
import { parseFilter } from "../filters/filter-parser.js";
import { FeatureGraph } from "../graph/feature-graph.js";
import { defineFeature } from "../spec/define-feature.js";
import { Lineage } from "../spec/lineage.js";
import { SYSTEM_COLUMNS } from "../spec/system-columns.js";
import { type BuildPlanOptions, type UpstreamSource, buildResolveUpdatePlan } from "./build-plan.js";
import type { ExpectedFromUpstreams, ResolveUpdatePlan } from "./resolve-update-plan.js";

/** A stored table's columns: its user columns, then the ten system columns (as `write` creates them). */
const stored = (...user: string[]): UpstreamSource => ({ columns: [...user, ...SYSTEM_COLUMNS] });

function planOf(
  graph: FeatureGraph,
  feature: string,
  upstreams: BuildPlanOptions["upstreams"],
  options: Partial<BuildPlanOptions> = {},
): ResolveUpdatePlan {
  return buildResolveUpdatePlan(graph, graph.get(feature).key, {
    hashAlgorithm: "xxhash64",
    truncation: null,
    upstreams,
    ...options,
  });
}

function expectedOf(plan: ResolveUpdatePlan): ExpectedFromUpstreams {
  if (plan.expected.kind !== "upstreams") throw new Error("expected rows from upstreams");
  return plan.expected;
}

/** The four provenance / data-version columns an upstream carries into the join, suffixed. */
const suffixed = (suffix: string) =>
  [
    "metaxy_provenance_by_field",
    "metaxy_provenance",
    "metaxy_data_version_by_field",
    "metaxy_data_version",
  ].map((source) => ({ source, name: source + suffix }));

const video = () => {
  const raw = defineFeature({
    key: "video/raw",
    idColumns: ["sample_uid"],
    fields: ["audio", "frames"],
  });
  const captions = defineFeature({ key: "video/captions", idColumns: ["sample_uid"], fields: ["text"] });
  return { raw, captions };
};

describe("buildResolveUpdatePlan states every decision", () => {
  it("identity: rename, then filters on renamed names, then select (extended with the ids)", () => {
    const page = defineFeature({ key: "docs/page", idColumns: ["page_id"], fields: ["text"] });
    const summary = defineFeature({
      key: "docs/summary",
      idColumns: ["page_id"],
      deps: [
        { feature: page, rename: { lang: "language" }, select: ["language"], filters: ["language = 'en'"] },
      ],
      fields: ["summary"],
    });
    const graph = new FeatureGraph([page, summary]);
    const plan = planOf(graph, "docs/summary", [stored("page_id", "lang", "title", "score")], {
      filters: { "docs/page": [parseFilter("score > 5")] },
    });
    expect(expectedOf(plan)).toEqual({
      kind: "upstreams",
      upstreams: [
        {
          feature: "docs/page",
          suffix: "__docs_page",
          read: {
            table: "docs__page",
            idColumns: ["page_id"],
            featureVersion: graph.featureVersion(page.key),
            latestOnly: true,
            includeSoftDeleted: false,
            filters: [parseFilter("score > 5")],
            columns: null,
          },
          renamed: [
            { source: "page_id", name: "page_id" },
            { source: "lang", name: "language" },
            { source: "title", name: "title" },
            { source: "score", name: "score" },
            ...suffixed("__docs_page"),
          ],
          filters: [parseFilter("language = 'en'")],
          columns: [
            { source: "lang", name: "language" },
            { source: "page_id", name: "page_id" },
          ],
          lineage: { type: "identity" },
          join: null,
        },
      ],
      joinOrder: [0],
      joinColumns: ["page_id"],
      joinedColumns: [{ name: "language", upstream: 0 }],
      reduce: null,
      columns: ["page_id", "language"],
    });
    expect(plan.diffColumns).toEqual(["page_id"]);
    expect(plan.collapseCurrent).toBeNull();
    expect(plan.fields).toEqual([
      {
        keyString: "summary",
        structKey: "summary",
        codeVersion: "__metaxy_initial__",
        parents: [{ fqKey: "docs/page.text", upstream: 0, structKey: "text", optional: false }],
      },
    ]);
  });

  it("joins: required deps inner in declared order, then optional ones left (full when nothing is required)", () => {
    const { raw, captions } = video();
    const audio = defineFeature({ key: "video/audio", idColumns: ["sample_uid"], fields: ["wave"] });
    // declared optional first: it is still joined after the required ones
    const summary = defineFeature({
      key: "video/summary",
      idColumns: ["sample_uid"],
      deps: [{ feature: captions, optional: true }, raw, audio],
      fields: [{ key: "summary", deps: "ALL" }],
    });
    const both = defineFeature({
      key: "video/both",
      idColumns: ["sample_uid"],
      deps: [
        { feature: raw, optional: true },
        { feature: captions, optional: true },
      ],
      fields: [{ key: "both", deps: "ALL" }],
    });
    const graph = new FeatureGraph([raw, captions, audio, summary, both]);
    const sources = [
      stored("sample_uid", "lang"),
      stored("sample_uid", "path", "duration"),
      stored("sample_uid"),
    ];
    const s = expectedOf(planOf(graph, "video/summary", sources));
    expect(s.joinOrder).toEqual([1, 2, 0]);
    expect(s.upstreams.map((u) => [u.feature, u.join])).toEqual([
      ["video/captions", "left"],
      ["video/raw", null],
      ["video/audio", "inner"],
    ]);
    // each non-id column from the first upstream in join order
    expect(s.joinedColumns).toEqual([
      { name: "path", upstream: 1 },
      { name: "duration", upstream: 1 },
      { name: "lang", upstream: 0 },
    ]);
    expect(s.columns).toEqual(["sample_uid", "path", "duration", "lang"]);

    const b = expectedOf(planOf(graph, "video/both", [stored("sample_uid"), stored("sample_uid")]));
    expect(b.joinOrder).toEqual([0, 1]);
    expect(b.upstreams.map((u) => u.join)).toEqual([null, "full"]);
    expect(
      planOf(graph, "video/both", [stored("sample_uid"), stored("sample_uid")]).fields[0].parents,
    ).toEqual([
      { fqKey: "video/captions.text", upstream: 1, structKey: "text", optional: true },
      { fqKey: "video/raw.audio", upstream: 0, structKey: "audio", optional: true },
      { fqKey: "video/raw.frames", upstream: 0, structKey: "frames", optional: true },
    ]);
  });

  it("aggregation: members ordered by the upstream ids, one row per group, expected reduced to the group", () => {
    const recording = defineFeature({
      key: "audio/recording",
      idColumns: ["recording_id"],
      fields: ["default", "pitch"],
    });
    const speaker = defineFeature({
      key: "speaker/embedding",
      idColumns: ["speaker_id"],
      deps: [
        { feature: recording, lineage: Lineage.aggregation({ on: ["speaker_id"] }), select: ["speaker_id"] },
      ],
      fields: ["embedding"],
    });
    const graph = new FeatureGraph([recording, speaker]);
    const plan = planOf(graph, "speaker/embedding", [stored("recording_id", "speaker_id", "duration")]);
    const e = expectedOf(plan);
    expect(e.upstreams[0].columns).toEqual([
      { source: "speaker_id", name: "speaker_id" },
      { source: "recording_id", name: "recording_id" },
    ]);
    expect(e.upstreams[0].lineage).toEqual({
      type: "aggregation",
      on: ["speaker_id"],
      orderBy: ["recording_id"],
      fieldStructKeys: ["default", "pitch"],
    });
    expect(e).toMatchObject({
      joinOrder: [0],
      joinColumns: ["speaker_id"],
      joinedColumns: [],
      reduce: { by: ["speaker_id"] },
      columns: ["speaker_id"],
    });
    expect(plan.collapseCurrent).toBeNull();
  });

  it("expansion: expected per parent, the stored children collapsed to their parent", () => {
    const source = defineFeature({ key: "video/source", idColumns: ["video_id"], fields: ["default"] });
    const chunk = defineFeature({
      key: "video/chunk",
      idColumns: ["chunk_id"],
      deps: [{ feature: source, lineage: Lineage.expansion({ on: ["video_id"] }) }],
      fields: ["default"],
    });
    const graph = new FeatureGraph([source, chunk]);
    const plan = planOf(graph, "video/chunk", [stored("video_id", "url")]);
    expect(expectedOf(plan)).toMatchObject({
      upstreams: [{ lineage: { type: "expansion", on: ["video_id"] }, join: null }],
      joinColumns: ["video_id"],
      joinedColumns: [{ name: "url", upstream: 0 }],
      reduce: null,
      columns: ["video_id", "url"],
    });
    expect(plan.diffColumns).toEqual(["video_id"]);
    expect(plan.collapseCurrent).toEqual({ by: ["video_id"] });
    expect(plan.current.idColumns).toEqual(["chunk_id"]);
  });

  it("samples: no upstream is read; fields in record order", () => {
    const { raw } = video();
    const graph = new FeatureGraph([raw]);
    const rows = [{ sample_uid: "s0", metaxy_provenance_by_field: { audio: "a", frames: "f" } }];
    const plan = planOf(graph, "video/raw", undefined, {
      samples: rows,
      targetFilters: [parseFilter("x = 1")],
    });
    expect(plan.expected).toEqual({ kind: "samples", rows, filters: [parseFilter("x = 1")] });
    expect(plan.recordOrder).toEqual(["audio", "frames"]);
    expect(plan.collapseCurrent).toBeNull();
  });
});

describe("buildResolveUpdatePlan checks columns once", () => {
  const pair = (schema?: boolean) => {
    const s = schema ? z.object({ sample_uid: z.string(), path: z.string() }) : undefined;
    const a = defineFeature({ key: "col/a", idColumns: ["sample_uid"], fields: ["x"], schema: s });
    const b = defineFeature({ key: "col/b", idColumns: ["sample_uid"], fields: ["y"], schema: s });
    const joined = defineFeature({
      key: "col/joined",
      idColumns: ["sample_uid"],
      deps: [a, b],
      fields: ["z"],
    });
    return new FeatureGraph([a, b, joined]);
  };

  it("a non-id column from two upstreams is a collision, from the stored columns", () => {
    const err = (() => {
      try {
        planOf(pair(), "col/joined", [stored("sample_uid", "path"), stored("sample_uid", "path")]);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ColumnCollisionError);
    expect(err).toMatchObject({
      details: { feature: "col/joined", column: "path", dependencies: ["col/a", "col/b"] },
    });
    // an id column shared by both is not
    expect(() =>
      planOf(pair(), "col/joined", [stored("sample_uid", "p"), stored("sample_uid")]),
    ).not.toThrow();
  });

  it("before any data exists, declared schemas stand in for the stored columns", () => {
    expect(() => planOf(pair(true), "col/joined", [null, null])).toThrow(ColumnCollisionError);
    // schemaless and stored nowhere: the dependency is reported missing, naming the stores searched
    expect(() =>
      planOf(pair(), "col/joined", [stored("sample_uid"), null], { storeDescription: "store mem" }),
    ).toThrow(
      expect.objectContaining({
        code: "FEATURE_NOT_FOUND",
        message: expect.stringContaining(
          '"col/b" (a dependency of "col/joined") has no metadata in store mem',
        ),
        details: { feature: "col/b", dependent: "col/joined" },
      }),
    );
    expect(() => planOf(pair(true), "col/joined", [stored("sample_uid"), null])).toThrow(
      FeatureNotFoundError,
    );
  });

  it("a selected column the upstream does not have is an error naming it", () => {
    const a = defineFeature({ key: "col/a", idColumns: ["sample_uid"], fields: ["x"] });
    const b = defineFeature({
      key: "col/b",
      idColumns: ["sample_uid"],
      deps: [{ feature: a, select: ["nope"] }],
      fields: ["y"],
    });
    expect(() => planOf(new FeatureGraph([a, b]), "col/b", [stored("sample_uid", "path")])).toThrow(
      expect.objectContaining({
        constructor: FieldNotFoundError,
        details: { feature: "col/b", dependency: "col/a", column: "nope" },
      }),
    );
  });
});

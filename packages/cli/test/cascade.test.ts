import { describe, expect, test } from "vitest";
import { type AffectedRecord, type CascadeInput, estimateCascade } from "../src/analysis/cascade.js";

function feature(key: string, extra: Partial<CascadeInput> = {}): CascadeInput {
  return {
    key,
    isRoot: false,
    keyColumns: ["id"],
    exportColumns: ["id"],
    fields: ["default"],
    fieldParents: new Map(),
    renames: new Map(),
    rows: 0,
    direct: { new: 0, stale: 0, orphaned: 0 },
    directAffected: [],
    versionChanged: null,
    notes: [],
    ...extra,
  };
}
const parents = (entries: Record<string, [string, string][]>) =>
  new Map(Object.entries(entries).map(([f, ps]) => [f, ps.map(([feature, field]) => ({ feature, field }))]));
const stale = (ids: string[], fields: AffectedRecord["fields"] = "all"): AffectedRecord[] =>
  ids.map((id) => ({ row: { id }, fields }));

describe("estimateCascade", () => {
  test("field-level: only fields fed by changed upstream fields are affected", () => {
    const results = estimateCascade([
      feature("f", {
        fields: ["x", "y"],
        direct: { new: 0, stale: 3, orphaned: 0 },
        directAffected: [...stale(["1", "2"], new Set(["x"])), ...stale(["3"], "all")],
      }),
      feature("only_y", { fieldParents: parents({ default: [["f", "y"]] }) }),
      feature("only_x", { fieldParents: parents({ default: [["f", "x"]] }) }),
      feature("leaf", {
        fieldParents: parents({ default: [["only_y", "default"]] }),
        direct: { new: 1, stale: 0, orphaned: 0 },
        directAffected: [{ row: { id: "3" }, fields: "all" }],
      }),
    ]);
    const by = Object.fromEntries(results.map((r) => [r.feature_key, r]));
    expect(by.f).toMatchObject({ cascaded: 0, total: 3 });
    expect(by.only_y).toMatchObject({ cascaded: 1, total: 1, via: ["f"], estimate: "exact" });
    expect(by.only_x).toMatchObject({ cascaded: 3, total: 3 });
    // id 3 reaches leaf through only_y, but leaf already recomputes it directly: counted once
    expect(by.leaf).toMatchObject({ cascaded: 0, total: 1 });
  });

  test("aggregation: upstream records map onto their group; rename is applied", () => {
    const results = estimateCascade([
      feature("utterances", {
        keyColumns: ["utt"],
        exportColumns: ["utt", "speaker"],
        directAffected: [
          { row: { utt: "u1", speaker: "s1" }, fields: "all" },
          { row: { utt: "u2", speaker: "s1" }, fields: "all" },
          { row: { utt: "u3", speaker: "s2" }, fields: "all" },
        ],
      }),
      feature("speakers", {
        keyColumns: ["speaker_id"],
        exportColumns: ["speaker_id"],
        renames: new Map([["utterances", { speaker: "speaker_id" }]]),
        fieldParents: parents({ default: [["utterances", "default"]] }),
      }),
    ]);
    expect(results[1]).toMatchObject({ cascaded: 2, total: 2, estimate: "exact" });
  });

  test("records that cannot be mapped make the estimate an upper bound", () => {
    const results = estimateCascade([
      feature("utterances", {
        keyColumns: ["utt"],
        exportColumns: ["utt"],
        directAffected: [
          { row: { utt: "u1" }, fields: "all" },
          { row: { utt: "u2" }, fields: "all" },
        ],
      }),
      feature("speakers", {
        keyColumns: ["speaker"],
        exportColumns: ["speaker"],
        fieldParents: parents({ default: [["utterances", "default"]] }),
      }),
    ]);
    expect(results[1]).toMatchObject({ cascaded: 2, total: 2, estimate: "upper_bound" });
    expect(results[1].notes[0]).toMatch(/could not be mapped/);
  });

  test("a changed definition recomputes the stored records, and they cascade", () => {
    const results = estimateCascade([
      feature("a", { versionChanged: { rows: [{ id: "1" }, { id: "2" }] } }),
      feature("b", { fieldParents: parents({ default: [["a", "default"]] }) }),
      feature("c", { versionChanged: { count: 7 } }),
    ]);
    expect(results.map((r) => [r.cascaded, r.total])).toEqual([
      [2, 2],
      [2, 2],
      [7, 7],
    ]);
    expect(results[2].estimate).toBe("upper_bound");
  });

  test("roots contribute nothing", () => {
    const results = estimateCascade([
      feature("root", { isRoot: true, direct: null }),
      feature("child", { fieldParents: parents({ default: [["root", "default"]] }) }),
    ]);
    expect(results.map((r) => r.total)).toEqual([0, 0]);
  });
});

/**
 * Issue 14 item 2: the same graph has the same feature, spec, definition and project versions on
 * both sides (the feature schema is Pydantic's JSON schema of the Python class), so pushing it
 * from both sides into one store records one snapshot, and rows written by either side carry the
 * same metaxy_project_version.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FeatureGraph, pythonJsonDumpsUnsorted } from "@metaxy/core";
import { afterAll, describe, expect, it } from "vitest";
import { interopGraph, videoRows, zoo } from "./graph.js";
import { query } from "./duckdb-query.js";
import { runPython } from "./peer.js";
import { runTs } from "./store-ops.js";

const dir = mkdtempSync(join(tmpdir(), "metaxy-python-versions-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("graph versions shared with Python Metaxy", () => {
  it("every feature's versions and JSON schema, and the project version, are Python's", () => {
    const g = interopGraph();
    const [py] = runPython({ db: ":memory:", hash: "md5", ops: [{ op: "definitions" }] });
    for (const f of g.graph.listFeatures({ project: "interop" })) {
      const key = f.key.toString();
      const theirs = py.features[key];
      // Key order too: the snapshot stores the schema as json.dumps renders it.
      expect(pythonJsonDumpsUnsorted(f.featureSchema), key).toBe(
        pythonJsonDumpsUnsorted(theirs.feature_schema),
      );
      expect(g.graph.featureVersion(f.key), key).toBe(theirs.feature_version);
      expect(g.graph.specVersion(f.key), key).toBe(theirs.spec_version);
      expect(g.graph.definitionVersion(f.key), key).toBe(theirs.definition_version);
      expect(f.pythonClass, key).toBe(theirs.feature_class_path);
    }
    expect(g.graph.projectVersion("interop")).toBe(py.project_version);
  });

  it("a feature with every column type both sides express has Pydantic's schema", () => {
    const [py] = runPython({ db: ":memory:", hash: "md5", ops: [{ op: "definitions" }] });
    expect(pythonJsonDumpsUnsorted(zoo.featureSchema)).toBe(pythonJsonDumpsUnsorted(py.zoo.feature_schema));
    const graph = new FeatureGraph([zoo], { project: "interop" });
    expect(graph.definitionVersion(zoo.key)).toBe(py.zoo.definition_version);
  });

  it.each([
    ["Python pushes first", "py"],
    ["this project pushes first", "ts"],
  ] as const)("%s: one snapshot, one project version on every row", async (_name, first) => {
    const db = join(dir, `push-${first}.duckdb`);
    const g = interopGraph();
    const python = () =>
      runPython({
        db,
        hash: "xxhash32",
        ops: [
          { op: "push" },
          { op: "write_root", rows: videoRows(8) },
          { op: "materialize", feature: "interop/clip" },
        ],
      });
    const ts = () =>
      runTs(db, "xxhash32", g, [
        { op: "push" },
        { op: "write_root", rows: videoRows(12).slice(8) },
        { op: "materialize", feature: "interop/clip" },
      ]) as Promise<any[]>;
    const [a, b] = first === "py" ? [python(), await ts()] : [await ts(), python()];
    const firstPush = (await a)[0];
    const secondPush = (await b)[0];
    const projectVersion = g.graph.projectVersion("interop");
    if (first === "py") {
      expect(firstPush).toMatchObject({ project_version: projectVersion, already_pushed: false });
      expect(secondPush).toEqual({ projectVersion, alreadyPushed: true, updatedFeatures: [] });
    } else {
      expect(firstPush).toEqual({ projectVersion, alreadyPushed: false, updatedFeatures: [] });
      expect(secondPush).toMatchObject({
        project_version: projectVersion,
        already_pushed: true,
        updated_features: [],
      });
    }

    const snapshots = await query(
      db,
      "SELECT feature_key, metaxy_project_version, metaxy_definition_version, feature_class_path FROM metaxy_system__feature_versions ORDER BY feature_key",
    );
    expect(snapshots).toEqual(
      g.graph
        .listFeatures({ project: "interop" })
        .map((f) => ({
          feature_key: f.key.toString(),
          metaxy_project_version: projectVersion,
          metaxy_definition_version: g.graph.definitionVersion(f.key),
          feature_class_path: f.pythonClass,
        }))
        .sort((x, y) => x.feature_key.localeCompare(y.feature_key)),
    );
    for (const table of ["interop__video", "interop__clip"]) {
      const versions = await query(db, `SELECT DISTINCT metaxy_project_version AS v FROM ${table}`);
      expect(versions, table).toEqual([{ v: projectVersion }]);
      const count = await query(db, `SELECT count(*)::INTEGER AS n FROM ${table}`);
      expect(count[0].n, table).toBe(12);
    }
  });
});

/**
 * Issue 14 item 3: the snapshot table `metaxy_system__feature_versions` as Python Metaxy creates
 * it — `recorded_at` / `deleted_at` TIMESTAMP (UTC, no zone), `feature_class_path` filled, and
 * `feature_spec` / `feature_schema` / `tags` in `json.dumps` form — and stores whose table an
 * earlier version created with TIMESTAMPTZ columns still work on both sides.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { query } from "./duckdb-query.js";
import { interopGraph } from "./graph.js";
import { runPython } from "./peer.js";
import { openTs, runTs } from "./store-ops.js";

const dir = mkdtempSync(join(tmpdir(), "metaxy-python-snapshots-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TABLE = "metaxy_system__feature_versions";
const describeTable = (db: string) => query(db, `SELECT column_name, column_type FROM (DESCRIBE ${TABLE})`);
const snapshotRows = (db: string) =>
  query(
    db,
    `SELECT feature_key, feature_spec, feature_schema, feature_class_path, tags, epoch_ms(recorded_at)::DOUBLE AS recorded_ms, deleted_at FROM ${TABLE} ORDER BY feature_key`,
  );

describe("the snapshot table shared with Python Metaxy", () => {
  it("is created with Python's column types and rows in Python's text form", async () => {
    const py = join(dir, "python.duckdb");
    const ts = join(dir, "ts.duckdb");
    const before = Date.now();
    runPython({ db: py, hash: "md5", ops: [{ op: "push" }] });
    await runTs(ts, "md5", interopGraph(), [{ op: "push" }]);
    const after = Date.now();

    const columns = await describeTable(ts);
    expect(columns).toEqual(await describeTable(py));
    expect(columns.filter((c) => c.column_name === "recorded_at" || c.column_name === "deleted_at")).toEqual([
      { column_name: "recorded_at", column_type: "TIMESTAMP" },
      { column_name: "deleted_at", column_type: "TIMESTAMP" },
    ]);

    const ours = await snapshotRows(ts);
    const theirs = await snapshotRows(py);
    expect(ours.map((r) => r.feature_class_path)).toEqual([
      "interop_graph.Clip",
      "interop_graph.Scene",
      "interop_graph.Video",
    ]);
    const text = (r: Record<string, unknown>) => ({
      feature_key: r.feature_key,
      feature_spec: r.feature_spec,
      feature_schema: r.feature_schema,
      feature_class_path: r.feature_class_path,
      // The library version differs; the rendering must not.
      tags: String(r.tags).replace(/\\"version\\": \\"[^"\\]+\\"/, "VERSION"),
      deleted_at: r.deleted_at,
    });
    expect(ours.map(text)).toEqual(theirs.map(text));
    expect(theirs[0].tags).toMatch(/^\{"metaxy": "\{\\"version\\": \\"0\.1\.11\\"\}"\}$/);
    // Both store the UTC wall time (epoch_ms reads a TIMESTAMP as UTC).
    for (const r of [...ours, ...theirs]) {
      const at = r.recorded_ms as number;
      expect(at).toBeGreaterThanOrEqual(before - 60_000);
      expect(at).toBeLessThanOrEqual(after + 1000);
    }
  });

  it("a table an earlier version created with TIMESTAMPTZ columns keeps working on both sides", async () => {
    const db = join(dir, "legacy.duckdb");
    await query(
      db,
      `CREATE TABLE ${TABLE} (project VARCHAR, feature_key VARCHAR, metaxy_feature_version VARCHAR, metaxy_definition_version VARCHAR, recorded_at TIMESTAMPTZ, feature_spec VARCHAR, feature_schema VARCHAR, feature_class_path VARCHAR, metaxy_project_version VARCHAR, tags VARCHAR, deleted_at TIMESTAMPTZ)`,
      false,
    );
    const g = interopGraph();
    const [pushed] = await runTs(db, "md5", g, [{ op: "push" }]);
    expect(pushed).toMatchObject({ alreadyPushed: false });
    const [again] = runPython({ db, hash: "md5", ops: [{ op: "push" }] });
    expect(again).toMatchObject({ project_version: g.graph.projectVersion("interop"), already_pushed: true });
    expect((await describeTable(db)).find((c) => c.column_name === "recorded_at")?.column_type).toBe(
      "TIMESTAMP WITH TIME ZONE",
    );
    await using store = await openTs(db, "md5", g);
    const snapshots = await store.graphSnapshots("interop");
    expect(snapshots).toHaveLength(1);
    expect(snapshots[0].recordedAt).toBeInstanceOf(Date);
    const loaded = await store.loadGraphSnapshot(snapshots[0].projectVersion, "interop");
    expect(loaded.definitionVersion("interop/clip")).toBe(g.graph.definitionVersion("interop/clip"));
  });
});

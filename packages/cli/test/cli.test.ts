import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Project, makeProject, openDev, run, runPipeline, videos } from "./helpers.js";

// Seeded state: 5 videos fully computed; then v1 and v2 re-ingested with new audio and v6 added
// (raw only). So transcript has 1 new + 2 stale, faces 1 new (frames unchanged), caption nothing
// yet — but 3 records cascade into it once transcript and faces run.
let p: Project;
const cli = (...args: string[]) => run(args, { cwd: p.dir });

beforeAll(async () => {
  p = makeProject("cli");
  const { store, features } = await openDev(p.dbPath);
  await runPipeline(store, features, videos(5));
  await runPipeline(store, features, videos(6, ["v1", "v2"]), [features.raw]);
  await store.close();
});
afterAll(() => p.cleanup());

function expectError(r: { code: number; stdout: string; stderr: string }, code: string, json: boolean) {
  expect(r.code).toBe(1);
  if (json) {
    const body = JSON.parse(r.stdout);
    expect(body.error).toBe(code);
    expect(typeof body.message).toBe("string");
    return body;
  }
  expect(r.stdout).toBe("");
  expect(r.stderr).toMatch(/^Error: /);
  return null;
}

describe("list / describe", () => {
  test("list features: table, summary and JSON shape", async () => {
    const [text, verbose, json] = await Promise.all([
      cli("list", "features"),
      cli("list", "features", "-v"),
      cli("list", "features", "--format", "json"),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Feature\s+Version\s+Source\s+Dependencies$/m);
    expect(text.stdout).toMatch(/^video\/caption\s+[0-9a-f]{8}\s+-\s+video\/transcript, video\/faces$/m);
    expect(text.stdout).toContain("Total: 4 features (1 root, 3 dependent)");
    expect(verbose.stdout).toMatch(/^text\s+1\s+[0-9a-f]{8}\s+video\/raw\.audio$/m);
    const body = json.json();
    expect(body.feature_count).toBe(4);
    expect(body.features.map((f: any) => f.key)).toEqual([
      "video/raw",
      "video/faces",
      "video/transcript",
      "video/caption",
    ]);
    expect(body.features[0]).toEqual({
      key: "video/raw",
      version: expect.stringMatching(/^[0-9a-f]{8}$/),
      is_root: true,
      is_external: false,
      project: "video",
      source: null,
      field_count: 2,
      fields: [
        { key: "audio", code_version: "1", version: expect.any(String), deps: [] },
        { key: "frames", code_version: "1", version: expect.any(String), deps: [] },
      ],
      deps: [],
    });
    expect(body.features[3].fields[0].deps).toEqual(["video/faces.faces", "video/transcript.text"]);
  });

  test("describe feature (a/b and a__b), text and JSON", async () => {
    const [text, json] = await Promise.all([
      cli("describe", "feature", "video/caption"),
      cli("describe", "feature", "video__transcript", "-f", "json"),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Feature: video\/caption$/m);
    expect(text.stdout).toMatch(/ID columns:\s+sample_uid/);
    expect(text.stdout).toMatch(/^\s+video\/transcript\s+identity\s+/m);
    const d = json.json();
    expect(d).toMatchObject({
      key: "video/transcript",
      project: "video",
      description: "Speech-to-text of the audio track",
      id_columns: ["sample_uid"],
      fields: [{ key: "text", code_version: "1", deps: ["video/raw.audio"] }],
      dependencies: [{ feature: "video/raw", lineage: { type: "1:1" }, optional: false }],
      dependents: ["video/caption"],
    });
  });

  test("unknown and invalid keys", async () => {
    const [unknownJson, unknownText, invalid] = await Promise.all([
      cli("describe", "feature", "video/nope", "--format", "json"),
      cli("describe", "feature", "video/nope"),
      cli("describe", "feature", "Video/Raw", "--format", "json"),
    ]);
    const body = expectError(unknownJson, "FEATURES_NOT_FOUND", true);
    expect(body.keys).toEqual(["video/nope"]);
    expect(body.available).toContain("video/raw");
    expectError(unknownText, "FEATURES_NOT_FOUND", false);
    expect(unknownText.stderr).toContain("Error: Feature(s) not found: video/nope");
    expect(unknownText.stderr).toMatch(/^Hint: Available features: /m);
    expect(expectError(invalid, "INVALID_FEATURE_KEY", true).key).toBe("Video/Raw");
  });

  test("list stores and config print", async () => {
    const [stores, config] = await Promise.all([
      cli("list", "stores", "-f", "json"),
      cli("config", "print", "-f", "json", "--store", "backup"),
    ]);
    expect(stores.json()).toMatchObject({
      default_store: "dev",
      store_count: 2,
      stores: [
        { name: "dev", is_default: true, fallbacks: [], info: `duckdb(${p.dbPath})` },
        { name: "backup", is_default: false, description: "a second file" },
      ],
    });
    expect(config.json()).toMatchObject({ project: "video", store: "backup", hash_truncation_length: 8 });
  });
});

describe("graph render", () => {
  test("terminal tree, graphviz and JSON", async () => {
    const [tree, fields, dot, json, sub] = await Promise.all([
      cli("graph", "render"),
      cli("graph", "render", "--show-fields", "--hash-length", "4"),
      cli("graph", "render", "-f", "graphviz", "--show-fields", "--direction", "LR"),
      cli("graph", "render", "-f", "json"),
      cli("graph", "render", "--feature", "video__transcript", "--up", "0", "--minimal"),
    ]);
    expect(tree.code).toBe(0);
    expect(tree.stdout).toMatch(/^Feature graph: project video \(version [0-9a-f]{8}\)$/m);
    expect(tree.stdout).toMatch(/^video\/raw {2}\(v [0-9a-f]{8}\)$/m);
    expect(tree.stdout).toMatch(/^├── video\/faces/m);
    expect(tree.stdout).toMatch(/^\s+└── video\/caption {2}\(see above\)$/m);
    expect(fields.stdout).toMatch(/· text {2}\(v [0-9a-f]{4}\) {2}← video\/raw\.audio/);
    expect(dot.stdout).toMatch(/^digraph metaxy \{\n {2}rankdir=LR;/);
    expect(dot.stdout).toContain('"video/raw.audio" -> "video/transcript.text";');
    expect(dot.stdout).toContain("subgraph cluster_0 {");
    const g = json.json();
    expect(g.nodes).toHaveLength(4);
    expect(g.edges).toContainEqual({ from: "video/raw", to: "video/faces" });
    expect(g.field_edges).toContainEqual({ from: "video/raw.frames", to: "video/faces.faces" });
    expect(sub.stdout.trim()).toBe("Feature graph: project video\nvideo/transcript\n└── video/caption");
  });

  test("flag errors", async () => {
    const [upWithout, both, badFormat] = await Promise.all([
      cli("graph", "render", "--up", "1", "-f", "json"),
      cli("graph", "render", "--minimal", "--verbose"),
      cli("graph", "render", "--format", "png"),
    ]);
    expectError(upWithout, "MISSING_REQUIRED_FLAG", true);
    expectError(both, "CONFLICTING_FLAGS", false);
    expect(both.stderr).toContain("--minimal and --verbose");
    expectError(badFormat, "INVALID_ARGUMENT", false);
  });
});

describe("status", () => {
  test("text and JSON; progress only when forced (stderr is not a terminal here)", async () => {
    const [text, json] = await Promise.all([
      run(["status", "--progress"], { cwd: p.dir, env: { METAXY_PROGRESS: "always" } }),
      cli("metadata", "status", "--progress", "--format", "json"),
    ]);
    expect(text.code).toBe(0);
    expect(json.stderr).toBe("");
    expect(text.stderr).toContain("status [1/4] video/raw");
    expect(text.stderr).toContain("status [4/4] video/caption");
    expect(text.stdout).toMatch(
      /^Status\s+Feature\s+Materialized\s+Missing\s+Stale\s+Orphaned\s+Failed\s+Info$/m,
    );
    expect(text.stdout).toMatch(/^○ root\s+video\/raw\s+6\s+-\s+-\s+-\s+-$/m);
    expect(text.stdout).toMatch(/^⚠ needs update \(83%\)\s+video\/transcript\s+5\s+1\s+2\s+0\s+0$/m);
    expect(text.stdout).toMatch(/^✓ up to date \(100%\)\s+video\/caption\s+5\s+0\s+0\s+0\s+0$/m);
    expect(text.stdout).toContain("2 of 4 features need an update.");
    const body = json.json();
    expect(Object.keys(body)).toEqual(["project", "project_version", "store", "features", "needs_update"]);
    expect(body.needs_update).toBe(true);
    expect(Object.keys(body.features)).toEqual([
      "video/raw",
      "video/faces",
      "video/transcript",
      "video/caption",
    ]);
    expect(body.features["video/transcript"]).toEqual({
      feature_key: "video/transcript",
      status: "needs_update",
      needs_update: true,
      metadata_exists: true,
      store_rows: 5,
      missing: 1,
      stale: 2,
      orphaned: 0,
      failed: 0,
      target_version: expect.stringMatching(/^[0-9a-f]{8}$/),
      is_root_feature: false,
      progress_percentage: 83.33,
      store_metadata: { name: "dev", display: `[dev] duckdb(${p.dbPath})` },
    });
    expect(body.features["video/raw"]).toMatchObject({
      status: "root_feature",
      missing: null,
      store_rows: 6,
    });
    expect(body.features["video/faces"]).toMatchObject({ missing: 1, stale: 0 });
  });

  test("without --progress: no percentage (progress needs a full resolve)", async () => {
    const [text, json] = await Promise.all([cli("status"), cli("status", "video/transcript", "-f", "json")]);
    expect(text.stdout).toMatch(/^⚠ needs update\s+video\/transcript\s+5\s+1\s+2\s+0\s+0$/m);
    expect(text.stdout).not.toContain("%)");
    expect(json.json().features["video/transcript"]).toMatchObject({ missing: 1, progress_percentage: null });
  });

  test("--assert-in-sync, --verbose samples, unknown keys", async () => {
    const [all, inSync, verbose, unknownWarn, unknownAssert, badFilter] = await Promise.all([
      cli("status", "--assert-in-sync"),
      cli("status", "video/caption", "video/raw", "--assert-in-sync", "-f", "json"),
      cli("status", "video/transcript", "-v", "-f", "json"),
      cli("status", "video/caption", "video/nope"),
      cli("status", "video/caption", "video/nope", "--assert-in-sync", "-f", "json"),
      cli("status", "--filter", "sample_uid = = 'v1'", "-f", "json"),
    ]);
    expect(all.code).toBe(1);
    expect(all.stdout).toContain("need an update");
    expect(inSync.code).toBe(0);
    expect(inSync.json().needs_update).toBe(false);
    const details = verbose.json().features["video/transcript"].sample_details;
    expect(details.missing).toEqual([{ sample_uid: "v6", metaxy_provenance: expect.any(String) }]);
    expect(details.stale.map((r: any) => r.sample_uid).sort()).toEqual(["v1", "v2"]);
    expect(unknownWarn.code).toBe(0);
    expect(unknownWarn.stderr).toContain("Warning: Feature(s) not found: video/nope");
    expectError(unknownAssert, "FEATURES_NOT_FOUND", true);
    expectError(badFilter, "FILTER_PARSE_ERROR", true);
  });
});

describe("status: a feature that fails is an error", () => {
  test("exit 1, an error entry per failing feature, counts only when known", async () => {
    // `path` is a column of video/raw only: every other feature fails to count its rows.
    const [json, text] = await Promise.all([
      cli("status", "--global-filter", "path = 's3://videos/v1.mp4'", "-f", "json"),
      cli("status", "--global-filter", "path = 's3://videos/v1.mp4'"),
    ]);
    expect(json.code).toBe(1);
    const body = json.json();
    expect(body.failed).toEqual(["video/faces", "video/transcript", "video/caption"]);
    expect(body.features["video/raw"]).toMatchObject({ status: "root_feature", store_rows: 1 });
    expect(body.features["video/transcript"]).toMatchObject({
      status: "error",
      metadata_exists: null,
      store_rows: null,
      missing: null,
      stale: null,
      orphaned: null,
      store_metadata: { name: "dev" },
      error: { code: expect.any(String), message: expect.stringContaining("path") },
    });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^! error\s+video\/transcript\s+-\s+-\s+-\s+-\s+-\s+\S/m);
    expect(text.stderr).toContain(
      "Error: status failed for 3 of 4 features: video/faces, video/transcript, video/caption",
    );
  });

  test("rows that were counted stay in the report when resolving fails", async () => {
    const q = makeProject("status-upstream");
    try {
      const { store, features } = await openDev(q.dbPath);
      const rows = videos(3).map((v) => ({
        sample_uid: v.uid,
        text: `text of ${v.uid}`,
        metaxy_provenance_by_field: { text: v.uid },
      }));
      await store.write(features.transcript, rows); // its upstream video/raw has no metadata
      await store.close();
      const r = await run(["status", "video/transcript", "-f", "json"], { cwd: q.dir });
      expect(r.code).toBe(1);
      expect(r.json().features["video/transcript"]).toMatchObject({
        status: "error",
        metadata_exists: true,
        store_rows: 3,
        missing: null,
        error: { code: "FEATURE_NOT_FOUND", message: expect.stringContaining("video/raw") },
      });
    } finally {
      q.cleanup();
    }
  });

  test("records set aside as failed are counted in their own column", async () => {
    const q = makeProject("status-failed");
    try {
      const { store, features } = await openDev(q.dbPath);
      await runPipeline(store, features, videos(4), [features.raw]);
      const { new: pending } = await (await store.resolveUpdate(features.transcript)).toArray();
      await store.recordFailures(features.transcript, pending.slice(0, 3), { error: "OOM", attempts: 3 });
      await store.close();
      const [text, json] = await Promise.all([
        run(["status", "video/transcript"], { cwd: q.dir }),
        run(["status", "video/transcript", "-f", "json"], { cwd: q.dir }),
      ]);
      expect(json.json().features["video/transcript"]).toMatchObject({ missing: 1, stale: 0, failed: 3 });
      expect(text.stdout).toMatch(/video\/transcript\s+0\s+1\s+0\s+0\s+3\s*$/m);
    } finally {
      q.cleanup();
    }
  });
});

describe("plan: direct work and the downstream cascade", () => {
  test("--cost on an engine without dry runs is a typed error, not a blank column", async () => {
    const r = await cli("plan", "--cost");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("cannot estimate a resolve's cost");
    const json = await cli("plan", "--cost", "-f", "json");
    expect(json.json()).toMatchObject({ error: "INVALID_CONFIG", backend: "duckdb" });
  });

  test("text and JSON", async () => {
    const [text, json] = await Promise.all([cli("plan"), cli("plan", "--format", "json")]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Feature\s+Rows\s+New\s+Stale\s+Orphaned\s+Cascaded\s+Total\s+Notes$/m);
    expect(text.stdout).toMatch(
      /^video\/caption\s+5\s+0\s+0\s+0\s+3\s+3\s+via video\/faces, video\/transcript$/m,
    );
    expect(text.stdout).toContain("Total: 7 records to recompute in 3 features (4 direct, 3 cascaded)");
    const body = json.json();
    const byKey = Object.fromEntries(body.features.map((f: any) => [f.feature_key, f]));
    expect(byKey["video/raw"]).toMatchObject({ is_root: true, direct: null, cascaded: 0, total: 0 });
    expect(byKey["video/transcript"]).toMatchObject({
      direct: { new: 1, stale: 2, orphaned: 0 },
      cascaded: 0,
      total: 3,
      estimate: "exact",
    });
    expect(byKey["video/faces"]).toMatchObject({ direct: { new: 1, stale: 0, orphaned: 0 }, total: 1 });
    // v6 (new upstream of both) and v1, v2 (stale transcript) will reach the caption.
    expect(byKey["video/caption"]).toEqual({
      feature_key: "video/caption",
      is_root: false,
      rows: 5,
      direct: { new: 0, stale: 0, orphaned: 0 },
      cascaded: 3,
      total: 3,
      estimate: "exact",
      via: ["video/faces", "video/transcript"],
      notes: [],
    });
    expect(body.totals).toEqual({ direct: 4, cascaded: 3, total: 7, orphaned: 0 });
    expect(body.features_affected).toBe(3);
  });

  test("limited to some features (the cascade still sees their upstream)", async () => {
    const body = (await cli("plan", "video/caption", "-f", "json")).json();
    expect(body.features.map((f: any) => f.feature_key)).toEqual(["video/caption"]);
    expect(body.features[0].cascaded).toBe(3);
  });
});

describe("push, history, graph-diff", () => {
  test("in order: nothing pushed, push, re-push, code change, diff", async () => {
    const none = await cli("history");
    expect(none.stdout.trim()).toBe("No graph snapshots recorded yet");
    expectError(await cli("graph-diff", "latest", "-f", "json"), "SNAPSHOT_ERROR", true);

    const push = await cli("push");
    expect(push.code).toBe(0);
    expect(push.stdout).toMatch(/^[0-9a-f]{8}\n$/);
    expect(push.stderr).toContain(`Recorded at: [dev] duckdb(${p.dbPath})`);
    expect(push.stderr).toContain("✓ Recorded feature graph");
    const version = push.stdout.trim();

    const again = await cli("push", "--format", "json");
    expect(again.json()).toMatchObject({
      project: "video",
      project_version: version,
      status: "unchanged",
      already_pushed: true,
      updated_features: [],
      store: "dev",
    });
    expectError(await cli("push", "--tag", "metaxy=1", "-f", "json"), "INVALID_ARGUMENT", true);

    const same = await cli("graph-diff", "latest");
    expect(same.stdout).toContain(`Graph diff for project video: ${version} (latest) → ${version} (current)`);
    expect(same.stdout).toContain("No changes.");

    // A new audio code version: raw, transcript and caption change; faces does not.
    const bumped = { cwd: p.dir, env: { AUDIO_CODE_VERSION: "2" } };
    const diff = await run(["graph-diff", "latest", "-f", "json"], bumped);
    const d = diff.json();
    expect(d.from).toEqual({ ref: "latest", project_version: version });
    expect(d.has_changes).toBe(true);
    expect(d.changed.map((c: any) => c.key)).toEqual(["video/caption", "video/raw", "video/transcript"]);
    expect(d.unchanged_count).toBe(1);
    expect(d.changed[1].fields).toEqual([
      {
        key: "audio",
        change: "changed",
        old_version: expect.any(String),
        new_version: expect.any(String),
        old_code_version: "1",
        new_code_version: "2",
      },
    ]);
    const diffText = await run(["graph-diff", "latest"], bumped);
    expect(diffText.stdout).toMatch(/^~ video\/raw {2}\([0-9a-f]{8} → [0-9a-f]{8}\)$/m);
    expect(diffText.stdout).toMatch(/^ {4}~ audio {2}\(.*code version 1 → 2\)$/m);

    // The plan after the code change: faces keeps its records (field-level lineage).
    const plan = (await run(["plan", "-f", "json"], bumped)).json();
    const byKey = Object.fromEntries(plan.features.map((f: any) => [f.feature_key, f]));
    expect(byKey["video/faces"].total).toBe(0);
    expect(byKey["video/transcript"].total).toBe(5);
    expect(byKey["video/caption"].total).toBe(5);

    const pushed2 = await run(["push"], bumped);
    const version2 = pushed2.stdout.trim();
    expect(version2).not.toBe(version);
    const history = await cli("history", "-f", "json");
    expect(history.json()).toMatchObject({
      project: "video",
      current_project_version: version,
      total: 2,
      snapshots: [
        { project_version: version2, feature_count: 4, is_current: false },
        { project_version: version, feature_count: 4, is_current: true },
      ],
    });
    expect(history.json().snapshots[0].recorded_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    const historyText = await cli("history", "--limit", "1");
    expect(historyText.stdout).toMatch(
      new RegExp(`^${version2}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+4\\s*$`, "m"),
    );
    expect(historyText.stdout).toContain("Total snapshots: 2");

    const between = (await cli("graph-diff", version, version2, "-f", "json")).json();
    expect(between.changed).toHaveLength(3);
    expectError(await cli("graph-diff", "deadbeef", "-f", "json"), "SNAPSHOT_LOAD_FAILED", true);
  });
});

describe("config discovery and errors", () => {
  test("found from a subdirectory; METAXY_CONFIG and --config point elsewhere", async () => {
    const sub = await run(["list", "features", "-f", "json"], { cwd: join(p.dir, "sub", "dir") });
    expect(sub.json().feature_count).toBe(4);
    const outside = mkdtempSync(join(tmpdir(), "metaxy-cli-"));
    try {
      const missing = await run(["list", "features", "-f", "json"], { cwd: outside });
      const body = expectError(missing, "INVALID_CONFIG", true);
      expect(body.message).toMatch(/No Metaxy config found/);
      const missingText = await run(["status"], { cwd: outside });
      expectError(missingText, "INVALID_CONFIG", false);
      expect(missingText.stderr).toMatch(/^Hint: /m);
      const viaEnv = await run(["list", "features", "-f", "json"], {
        cwd: outside,
        env: { METAXY_CONFIG: join(p.dir, "metaxy.config.ts") },
      });
      expect(viaEnv.json().feature_count).toBe(4);
      const viaFlag = await run(["--config", join(p.dir, "metaxy.config.ts"), "list", "features"], {
        cwd: outside,
      });
      expect(viaFlag.code).toBe(0);
      const wrongFlag = await run(["list", "features", "--config", "nope.ts", "-f", "json"], {
        cwd: outside,
      });
      expect(expectError(wrongFlag, "INVALID_CONFIG", true).file).toBe(join(outside, "nope.ts"));
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  test("unknown store, bad env, bad format, unknown command", async () => {
    const [store, env, format, command] = await Promise.all([
      cli("status", "--store", "nope", "-f", "json"),
      run(["list", "features", "-f", "json"], { cwd: p.dir, env: { METAXY_HASH_TRUNCATION_LENGTH: "3" } }),
      cli("list", "features", "--format", "yaml"),
      cli("frobnicate", "-f", "json"),
    ]);
    const s = expectError(store, "INVALID_CONFIG", true);
    expect(s.available).toEqual(["backup", "dev"]);
    expect(s.message).toMatch(/METAXY_/);
    expectError(env, "INVALID_CONFIG", true);
    expectError(format, "INVALID_ARGUMENT", false);
    expect(format.stderr).toContain('Unsupported --format "yaml"');
    expectError(command, "INVALID_ARGUMENT", true);
  });
});

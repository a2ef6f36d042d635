import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Project, makeProject, openDev, run, runPipeline, videos } from "./helpers.js";

// 4 videos, every feature up to date, in store "dev"; store "backup" is empty.
let p: Project;
const cli = (...args: string[]) => run(args, { cwd: p.dir });

beforeAll(async () => {
  p = makeProject("metadata");
  const { store, features } = await openDev(p.dbPath);
  await runPipeline(store, features, videos(4));
  await store.close();
});
afterAll(() => p.cleanup());

function expectJsonError(r: { code: number; stdout: string }, code: string) {
  expect(r.code).toBe(1);
  const body = JSON.parse(r.stdout);
  expect(body.error).toBe(code);
  return body;
}

async function statusOf(store = "dev") {
  return (await cli("status", "--store", store, "-f", "json")).json().features;
}

describe("metadata delete", () => {
  test("selection and confirmation errors", async () => {
    const results = await Promise.all([
      cli("metadata", "delete", "-f", "json"),
      cli("metadata", "delete", "video/caption", "--all-features", "-f", "json"),
      cli("metadata", "delete", "video/caption", "--hard", "-f", "json"),
      cli("metadata", "delete", "video/caption", "--hard"),
      cli("metadata", "delete", "video/caption", "--soft", "--hard", "--yes", "-f", "json"),
      cli("metadata", "delete", "video/nope", "-f", "json"),
    ]);
    expectJsonError(results[0], "MISSING_REQUIRED_FLAG");
    expectJsonError(results[1], "CONFLICTING_FLAGS");
    const confirm = expectJsonError(results[2], "MISSING_CONFIRMATION");
    expect(confirm.hint).toMatch(/--yes/);
    expect(results[3].code).toBe(1);
    expect(results[3].stderr).toContain("Error: A hard delete removes rows for good and needs --yes");
    expect(results[3].stderr).toContain("Hint: Re-run with --yes, or with --dry-run");
    expectJsonError(results[4], "CONFLICTING_FLAGS");
    expectJsonError(results[5], "FEATURES_NOT_FOUND");
    // nothing was deleted
    expect((await statusOf())["video/caption"].store_rows).toBe(4);
  });

  test("dry run, soft delete, hard delete", async () => {
    const dry = await cli(
      "metadata",
      "delete",
      "video/caption",
      "--filter",
      "sample_uid = 'v1'",
      "--dry-run",
    );
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("Dry run: soft delete from [dev]");
    expect(dry.stdout).toContain("Filters: sample_uid = 'v1'");
    expect(dry.stdout).toMatch(/^video\/caption\s+1$/m);
    expect(dry.stdout).toContain("Dry run: 1 row would be deleted (soft delete); nothing was changed.");
    const dryHard = (
      await cli("metadata", "delete", "--all-features", "--hard", "--dry-run", "-f", "json")
    ).json();
    expect(dryHard).toMatchObject({ mode: "hard", dry_run: true, total_rows: 16, failed: 0 });
    expect((await statusOf())["video/caption"].store_rows).toBe(4);

    const soft = await cli(
      "metadata",
      "delete",
      "video/caption",
      "--filter",
      "sample_uid = 'v1'",
      "-f",
      "json",
    );
    expect(soft.json()).toEqual({
      store: "dev",
      mode: "soft",
      dry_run: false,
      with_feature_history: false,
      filters: ["sample_uid = 'v1'"],
      features: [{ feature_key: "video/caption", rows: 1 }],
      total_rows: 1,
      failed: 0,
    });
    const after = await statusOf();
    expect(after["video/caption"]).toMatchObject({ store_rows: 3, missing: 1, status: "needs_update" });

    const hard = await cli(
      "metadata",
      "delete",
      "video/faces",
      "--hard",
      "--yes",
      "--filter",
      "sample_uid = 'v4'",
    );
    expect(hard.code).toBe(0);
    expect(hard.stdout).toContain("✓ Deletion complete (hard delete): 1 row in 1 feature");
    const afterHard = await statusOf();
    expect(afterHard["video/faces"]).toMatchObject({ store_rows: 3, missing: 1 });
    // v4's caption now has no faces upstream: orphaned
    expect(afterHard["video/caption"]).toMatchObject({ orphaned: 1 });
  });
});

describe("metadata copy", () => {
  test("flag errors", async () => {
    const [noTo, same, noSelection] = await Promise.all([
      cli("metadata", "copy", "--all-features", "--from", "dev", "-f", "json"),
      cli("metadata", "copy", "--all-features", "--from", "dev", "--to", "dev", "-f", "json"),
      cli("metadata", "copy", "--from", "dev", "--to", "backup", "-f", "json"),
    ]);
    expect(expectJsonError(noTo, "MISSING_REQUIRED_FLAG").message).toMatch(/--to/);
    expectJsonError(same, "CONFLICTING_FLAGS");
    expectJsonError(noSelection, "MISSING_REQUIRED_FLAG");
  });

  test("copies every row with history: the copy reads exactly like the source", async () => {
    const copy = await run(
      ["metadata", "copy", "--all-features", "--from", "dev", "--to", "backup", "-f", "json"],
      {
        cwd: p.dir,
        env: { METAXY_PROGRESS: "always" },
      },
    );
    expect(copy.code).toBe(0);
    const body = copy.json();
    expect(body).toMatchObject({ from: "dev", to: "backup", features_copied: 4, failed: 0 });
    // raw 4, faces 3 (one hard-deleted), transcript 4, caption 4 + 1 tombstone
    expect(body.rows_copied).toBe(16);
    expect(copy.stderr).toContain("copying [1/4] video/raw");
    const [dev, backup] = await Promise.all([statusOf("dev"), statusOf("backup")]);
    for (const key of Object.keys(dev)) {
      const { store_metadata: _a, ...d } = dev[key];
      const { store_metadata: _b, ...b } = backup[key];
      expect(b, key).toEqual(d);
    }
    const text = await cli(
      "metadata",
      "copy",
      "video/raw",
      "--from",
      "dev",
      "--to",
      "backup",
      "--no-sample-history",
    );
    expect(text.stdout).toContain("✓ Copy complete: 1 feature, 4 rows copied");
  });
});

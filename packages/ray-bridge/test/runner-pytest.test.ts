import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { venvPython } from "./fixtures.js";

it("the Python runner's pytest suite passes in the Ray venv", () => {
  const cwd = fileURLToPath(new URL("../python", import.meta.url));
  const run = spawnSync(venvPython(), ["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], {
    cwd,
    encoding: "utf8",
  });
  expect(run.error).toBeUndefined();
  // The whole report on failure; a collection error or zero tests fails too.
  expect({ status: run.status, out: run.stdout + run.stderr }).toMatchObject({ status: 0 });
  expect(run.stdout).toMatch(/\b[1-9]\d* passed\b/);
});

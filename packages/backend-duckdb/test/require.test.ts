import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));

// No top-level await in the backend's module graph (xxhash loads when a store opens), so a
// CommonJS caller can require() it where Node supports require(esm).
it.runIf(process.features.require_module)("require() loads the built backend", () => {
  const script =
    'const m = require("@metaxy/backend-duckdb"); process.stdout.write(String(typeof m.duckdb));';
  const out = execFileSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8", env: {} });
  expect(out).toBe("function");
});

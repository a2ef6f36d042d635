import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backendConformanceSuite } from "@metaxy/backend-testkit";
import { afterAll } from "vitest";
import { duckdb } from "../src/index.js";

backendConformanceSuite({ name: "duckdb :memory:", makeBackend: () => duckdb() });

// The same suite on database files, the way the library is used in production.
const dir = mkdtempSync(join(tmpdir(), "metaxy-conformance-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
backendConformanceSuite({
  name: "duckdb file",
  makeBackend: () => duckdb({ path: join(dir, `store-${++n}.duckdb`) }),
  numRuns: 10,
});

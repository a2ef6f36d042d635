import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backendConformanceSuite } from "@metaxy/backend-testkit";
import * as vitest from "vitest";
import { duckdb } from "../src/index.js";

backendConformanceSuite(vitest, { name: "duckdb :memory:", makeBackend: () => duckdb() });

// The same suite on database files, the way the library is used in production.
const dir = mkdtempSync(join(tmpdir(), "metaxy-conformance-"));
vitest.afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
backendConformanceSuite(vitest, {
  name: "duckdb file",
  makeBackend: () => duckdb({ path: join(dir, `store-${++n}.duckdb`) }),
  numRuns: 10,
});

// Python Metaxy's default layout: every `*_by_field` column a STRUCT with one field per field.
backendConformanceSuite(vitest, {
  name: "duckdb struct layout",
  makeBackend: () => duckdb({ layout: "struct" }),
  numRuns: 10,
});

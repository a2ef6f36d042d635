import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backendConformanceSuite } from "@metaxy/backend-testkit";
import * as vitest from "vitest";
import { delta } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "metaxy-delta-conformance-"));
vitest.afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
backendConformanceSuite(vitest, {
  name: "delta",
  makeBackend: () => delta({ root: join(dir, `store-${++n}`) }),
  numRuns: 10,
});

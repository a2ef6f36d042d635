import { backendConformanceSuite } from "@metaxy/backend-testkit";
import * as vitest from "vitest";
import { clickhouse } from "../src/index.js";
import { sharedEnginePath } from "./engine.js";

// One engine directory per process (chdb): every store of the suite is a database of its own in it.
const path = sharedEnginePath();
let n = 0;
backendConformanceSuite(vitest, {
  name: "clickhouse embedded (chdb)",
  makeBackend: () => clickhouse.embedded({ path, database: `conformance_${++n}` }),
  numRuns: 3,
});

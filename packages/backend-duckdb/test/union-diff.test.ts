import { SqlBackend } from "@metaxy/backend-sql";
import { backendConformanceSuite } from "@metaxy/backend-testkit";
import * as vitest from "vitest";
import { duckdbDialect } from "../src/duckdb-dialect.js";
import { DuckDBDriver } from "../src/duckdb-driver.js";

// The UNION ALL + GROUP BY diff (the shape for engines with slow joins) must give exactly what
// the join gives: the whole testkit on DuckDB with only the diff shape changed.
const unionDialect = { ...duckdbDialect, diffShape: "union" as const };

backendConformanceSuite(vitest, {
  name: "duckdb, union diff",
  makeBackend: () => {
    const driver = new DuckDBDriver({});
    Object.defineProperty(driver, "dialect", { value: unionDialect });
    return new SqlBackend(driver, {
      kind: "duckdb",
      capabilities: {
        hashAlgorithms: ["md5", "sha256", "xxhash64", "xxhash32", "xxh3_64"],
        defaultHashAlgorithm: "md5",
        atomicWrites: true,
      },
    });
  },
  numRuns: 10,
});

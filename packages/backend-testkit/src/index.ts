import type { BackendConformanceOptions } from "./harness.js";
import { deleteSuite } from "./suites/delete.js";
import { engineErrorsSuite } from "./suites/engine-errors.js";
import { fallbackSuite } from "./suites/fallback.js";
import { hashIdentitySuite } from "./suites/hash-identity.js";
import { incrementSuite } from "./suites/increment.js";
import { lineageSuite } from "./suites/lineage.js";
import { namesSuite } from "./suites/names.js";
import { resolveUpdateSuite } from "./suites/resolve-update.js";
import { writeReadSuite } from "./suites/write-read.js";
import { writeSafetySuite } from "./suites/write-safety.js";
import { failedRecordsSuite } from "./suites/failed-records.js";
import { incrementalResolveSuite } from "./suites/incremental-resolve.js";
import type { TestApi } from "./test-api.js";

export type { BackendConformanceOptions } from "./harness.js";
export type { Assertion, AsyncAssertion, Expect, TestApi, TestContext } from "./test-api.js";
export {
  deleteSuite,
  engineErrorsSuite,
  failedRecordsSuite,
  fallbackSuite,
  hashIdentitySuite,
  incrementSuite,
  incrementalResolveSuite,
  lineageSuite,
  namesSuite,
  resolveUpdateSuite,
  writeReadSuite,
  writeSafetySuite,
};

/** A suite: registers its cases with the caller's runner, for one backend. */
export type ConformanceSuite = (test: TestApi, options: BackendConformanceOptions) => void;

/** Every suite, in the order `backendConformanceSuite` registers them. */
export const CONFORMANCE_SUITES: readonly ConformanceSuite[] = [
  writeReadSuite,
  writeSafetySuite,
  deleteSuite,
  fallbackSuite,
  resolveUpdateSuite,
  lineageSuite,
  incrementSuite,
  hashIdentitySuite,
  failedRecordsSuite,
  incrementalResolveSuite,
  namesSuite,
  engineErrorsSuite,
];

/**
 * Registers the conformance suite every Metaxy backend must pass (Keyv's test-suite pattern):
 * call it from the backend's test file with the runner and a factory of fresh, empty backends.
 * Cases the backend cannot run are skipped only by what its `capabilities` declare.
 *
 * ```ts
 * import * as vitest from "vitest";
 * backendConformanceSuite(vitest, { name: "duckdb", makeBackend: () => duckdb() });
 * ```
 */
export function backendConformanceSuite(test: TestApi, options: BackendConformanceOptions): void {
  for (const suite of CONFORMANCE_SUITES) suite(test, options);
}

import { describe } from "vitest";
import { type BackendConformanceOptions, resolveOptions } from "./harness.js";
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

export type { BackendConformanceOptions } from "./harness.js";

/**
 * Registers the conformance suite every Metaxy backend must pass (Keyv's `storageTestSuite`
 * pattern): call it from the backend's test file with a factory of fresh, empty backends.
 *
 * ```ts
 * backendConformanceSuite({ name: "duckdb", makeBackend: () => duckdb({ path: ":memory:" }) });
 * ```
 */
export function backendConformanceSuite(options: BackendConformanceOptions): void {
  const resolved = resolveOptions(options);
  describe(`backend conformance: ${options.name}`, () => {
    writeReadSuite(resolved);
    writeSafetySuite(resolved);
    deleteSuite(resolved);
    fallbackSuite(resolved);
    resolveUpdateSuite(resolved);
    lineageSuite(resolved);
    incrementSuite(resolved);
    hashIdentitySuite(resolved);
    namesSuite(resolved);
    engineErrorsSuite(resolved);
  });
}

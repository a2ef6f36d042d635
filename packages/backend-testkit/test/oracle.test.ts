import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { HashAlgorithm } from "@metaxy/core";
import { describe, expect, it } from "vitest";
import { fieldProvenance, recordProvenance, structKey } from "../src/oracle/provenance.js";

// The testkit's oracle must reproduce every record-level reference vector before it may judge a backend.
const vectors = (
  JSON.parse(readFileSync(join(import.meta.dirname, "../../core/test/vectors/golden.json"), "utf8")) as any[]
).filter((r) => r.kind === "record_provenance");

describe("oracle provenance", () => {
  it("has the record-level vectors", () => expect(vectors.length).toBeGreaterThan(30));

  for (const r of vectors)
    it(`${r.name} (${r.hash_algorithm})`, () => {
      const algo = r.hash_algorithm as HashAlgorithm;
      const truncation: number | null = r.truncation === null ? null : (r.truncation ?? 8);
      const byField: Record<string, string> = {};
      for (const [field, spec] of Object.entries<any>(r.fields)) {
        const parents = Object.entries<string>(spec.parents_fq_key_to_upstream_data_version);
        const got = fieldProvenance(algo, field, spec.code_version, parents, truncation);
        expect(got, field).toBe(spec.expected);
        byField[structKey(field)] = got;
      }
      // some records pin only the field level
      if (r.expected_metaxy_provenance !== null)
        expect(recordProvenance(algo, byField, truncation)).toBe(r.expected_metaxy_provenance);
    });
});

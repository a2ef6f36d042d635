import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import {
  FeatureGraph,
  featureFromSpecJson,
  fieldProvenance,
  fieldProvenanceConcat,
  initHashing,
  recordProvenance,
  specVersionOfJson,
  definitionVersionOf,
  projectVersionOf,
  compareParts,
  FeatureKey,
  FieldKey,
  type HashAlgorithm,
} from "../src/index.js";

/**
 * Every record of every vectors/*.json file must evaluate and match. Unknown kinds fail:
 * new records of new kinds need new rules, not silence.
 */
const dir = join(import.meta.dirname, "vectors");
const records = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .flatMap((file) =>
    (JSON.parse(readFileSync(join(dir, file), "utf8")) as any[]).map((r, i) => ({ file, i, r })),
  );

describe("golden vectors", () => {
  beforeAll(() => initHashing());

  it("has records", () => expect(records.length).toBeGreaterThan(0));

  for (const { file, i, r } of records) {
    it(`${file}#${i} ${r.kind} ${r.name}`, () => checkRecord(r));
  }
});

function truncationOf(r: any): number | null {
  return r.truncation === null ? null : (r.truncation ?? 8);
}

function checkRecord(r: any): void {
  switch (r.kind) {
    case "graph": {
      const graph = new FeatureGraph([], { hashTruncationLength: truncationOf(r) ?? 64 });
      for (const f of r.features) graph.add(featureFromSpecJson(f, { external: false }));
      for (const [key, exp] of Object.entries<any>(r.expected)) {
        if (exp.feature_version !== undefined)
          expect(graph.featureVersion(key), key).toBe(exp.feature_version);
        for (const [field, v] of Object.entries(exp.field_versions ?? {}))
          expect(graph.fieldVersion(key, field), `${key}.${field}`).toBe(v);
        if (exp.code_version !== undefined) expect(graph.codeVersion(key)).toBe(exp.code_version);
      }
      return;
    }
    case "feature_spec_version":
      expect(specVersionOfJson(r.spec_model_dump_json, truncationOf(r) ?? 64)).toBe(r.expected);
      return;
    case "definition_version": {
      const t = truncationOf(r) ?? 64;
      const spec = specVersionOfJson(r.spec_model_dump_json, t);
      expect(definitionVersionOf(spec, r.feature_schema, t)).toBe(r.expected);
      return;
    }
    case "project_version": {
      const items = [...r.items_key_definition_version].sort((a: any, b: any) =>
        compareParts(new FeatureKey(a[0]).parts, new FeatureKey(b[0]).parts),
      );
      expect(projectVersionOf(items, truncationOf(r) ?? 64)).toBe(r.expected);
      return;
    }
    case "record_provenance": {
      const algo = r.hash_algorithm as HashAlgorithm;
      const t = truncationOf(r);
      const byField: Record<string, string | null> = {};
      for (const [field, spec] of Object.entries<any>(r.fields)) {
        const input = {
          fieldKey: field,
          codeVersion: spec.code_version,
          parents: Object.entries<string>(spec.parents_fq_key_to_upstream_data_version),
        };
        if (spec.concat_string !== undefined) expect(fieldProvenanceConcat(input)).toBe(spec.concat_string);
        const got = fieldProvenance(algo, input, t);
        expect(got, field).toBe(spec.expected);
        byField[new FieldKey(field).toStructKey()] = got;
      }
      if (r.sample_concat !== undefined)
        expect(
          Object.keys(byField)
            .sort()
            .map((k) => byField[k])
            .join("|"),
        ).toBe(r.sample_concat);
      if (r.expected_metaxy_provenance != null)
        expect(recordProvenance(algo, byField, t)).toBe(r.expected_metaxy_provenance);
      return;
    }
    default:
      throw new Error(`Unknown vector kind ${JSON.stringify(r.kind)}: add a rule for it`);
  }
}

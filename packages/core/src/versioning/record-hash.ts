import { compareStrings } from "../keys.js";
import { type HashAlgorithm, truncatedHash } from "./hash-algorithms.js";

/** One downstream field's provenance inputs (SPEC §2.5). */
export interface FieldProvenanceInput {
  /** The field key string, e.g. `text` or `audio/french`. */
  readonly fieldKey: string;
  readonly codeVersion: string;
  /** Parent FQ field key string → that parent's data version for this record (null = missing). */
  readonly parents: ReadonlyArray<readonly [fqKey: string, dataVersion: string | null]>;
}

/** The exact string hashed for one field: `field|code|parentFq|version|...`, parents sorted by FQ key. */
export function fieldProvenanceConcat(input: FieldProvenanceInput): string | null {
  const parts = [input.fieldKey, input.codeVersion];
  const parents = [...input.parents].sort((a, b) => compareStrings(a[0], b[0]));
  for (const [fq, version] of parents) {
    if (version === null || version === undefined) return null; // concat with null is null
    parts.push(fq, version);
  }
  return parts.join("|");
}

export function fieldProvenance(
  algorithm: HashAlgorithm,
  input: FieldProvenanceInput,
  truncation: number | null,
): string | null {
  const concat = fieldProvenanceConcat(input);
  return concat === null ? null : truncatedHash(algorithm, concat, truncation);
}

/** Record provenance: hash of the per-field values joined by `|`, ordered by struct key. */
export function recordProvenance(
  algorithm: HashAlgorithm,
  byField: Readonly<Record<string, string | null>>,
  truncation: number | null,
): string | null {
  const concat = byFieldConcat(byField);
  return concat === null ? null : truncatedHash(algorithm, concat, truncation);
}

export function byFieldConcat(byField: Readonly<Record<string, string | null>>): string | null {
  const names = Object.keys(byField).sort(compareStrings);
  const values: string[] = [];
  for (const n of names) {
    const v = byField[n];
    if (v === null || v === undefined) return null;
    values.push(v);
  }
  return values.join("|");
}

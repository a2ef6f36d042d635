/**
 * Detects a store opened with another record hash than the one its rows were written with (a
 * Python Metaxy DuckDB store defaults to xxhash32): otherwise every record would silently be
 * reported stale. A few stored rows' record provenance is recomputed from their stored
 * per-field provenance; when the store's algorithm reproduces none of them and another one
 * reproduces them all, the store is refused with both algorithms named.
 */
import { HashAlgorithmMismatchError } from "../errors.js";
import type { ReadQuery } from "../plan/read-query.js";
import { PROVENANCE, PROVENANCE_BY_FIELD } from "../spec/system-columns.js";
import type { Backend } from "./backend.js";
import { HASH_ALGORITHMS, type HashAlgorithm, initHashing, isXxhash } from "../versioning/hash-algorithms.js";
import { recordProvenance } from "../versioning/record-hash.js";

/** How many stored rows are recomputed. */
const SAMPLE = 5;

type Sample = { byField: Record<string, string | null>; stored: string };

function reproduces(algorithm: HashAlgorithm, s: Sample): boolean {
  const full = recordProvenance(algorithm, s.byField, null);
  // Any truncation >= 8 is a prefix of the full rendering.
  return full !== null && s.stored.length >= 8 && full.slice(0, s.stored.length) === s.stored;
}

export async function checkStoredHashAlgorithm(
  backend: Backend,
  feature: string,
  table: string,
  algorithm: HashAlgorithm,
  supported: readonly HashAlgorithm[],
): Promise<void> {
  if (!(await backend.tableExists(table))) return;
  const query: ReadQuery = {
    table,
    idColumns: [],
    featureVersion: null,
    latestOnly: false,
    includeSoftDeleted: true,
    filters: [],
    columns: [PROVENANCE, PROVENANCE_BY_FIELD],
  };
  const samples: Sample[] = [];
  for await (const batch of backend.read(query, SAMPLE)) {
    for (const r of batch) {
      const stored = r[PROVENANCE];
      const byField = r[PROVENANCE_BY_FIELD];
      if (typeof stored === "string" && byField && typeof byField === "object")
        samples.push({ stored, byField: byField as Record<string, string | null> });
      if (samples.length >= SAMPLE) break;
    }
    if (samples.length >= SAMPLE) break;
  }
  if (samples.length === 0 || samples.some((s) => reproduces(algorithm, s))) return;
  for (const other of HASH_ALGORITHMS) {
    if (other === algorithm || !supported.includes(other)) continue;
    if (isXxhash(other)) await initHashing();
    if (samples.every((s) => reproduces(other, s)))
      throw new HashAlgorithmMismatchError(
        `Feature "${feature}" was written with hash algorithm "${other}", but this store hashes with "${algorithm}": every record would be reported stale. Open the store with hashAlgorithm: "${other}".`,
        { feature, table, hashAlgorithm: algorithm, storedHashAlgorithm: other },
      );
  }
}

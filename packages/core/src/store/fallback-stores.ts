/**
 * Fallback stores (SPEC §4.1, §4.2): a feature absent from a store is read, whole, from the first store
 * of its fallback chain that has it. Fallback rows are streamed batch by batch, never gathered.
 */
import { ValidationError } from "../errors.js";
import type { UpstreamSource } from "../plan/build-plan.js";
import type { ReadQuery } from "../plan/read-query.js";
import type { FeatureRef } from "../spec/define-feature.js";
import type { HashAlgorithm } from "../versioning/hash-algorithms.js";
import type { MetadataStore } from "./metadata-store.js";
import { whileOpen } from "./open-guard.js";

/** Every store of a chain hashes records alike, or their provenance would never match. */
export function assertFallbackAlgorithms(
  fallbacks: readonly MetadataStore[],
  algorithm: HashAlgorithm,
): void {
  fallbacks.forEach((s, i) => {
    if (s.hashAlgorithm !== algorithm)
      throw new ValidationError(
        `Fallback store ${i} uses hash_algorithm=${s.hashAlgorithm}, but this store uses ${algorithm}; all stores in a fallback chain must use the same algorithm`,
        { algorithm },
      );
  });
}

/** The first of `fallbacks` (each searched through its own fallbacks) that has the feature. */
export async function findInFallbacks(
  fallbacks: readonly MetadataStore[],
  feature: FeatureRef,
): Promise<MetadataStore | null> {
  for (const f of fallbacks) {
    const found = await f.findStoreFor(feature, true);
    if (found) return found;
  }
  return null;
}

/**
 * Where `store` finds an upstream: its own table's columns; else the first fallback store that
 * has it, whose rows the engine then streams in batches of `batchSize`. `null`: nowhere.
 */
export async function upstreamSource(
  store: MetadataStore,
  feature: string,
  read: ReadQuery,
  batchSize: number,
): Promise<UpstreamSource | null> {
  const columns = await store.backend.tableColumns(read.table);
  if (columns) return { columns };
  const found = await findInFallbacks(store.fallbackStores, feature);
  if (!found) return null;
  const schema = (await found.backend.tableSchema(read.table)) ?? {};
  const isOpen = () => store.isOpen && found.isOpen;
  const batches = () =>
    whileOpen(found.backend.read(read, batchSize), isOpen, `reading "${feature}" from a fallback store`);
  return { columns: Object.keys(schema), inline: { schema, batches } };
}

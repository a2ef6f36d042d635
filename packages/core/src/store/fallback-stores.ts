/**
 * Fallback stores (SPEC §4.1, §4.2): a feature absent from a store is read, whole, from the first store
 * of its fallback chain that has it. Fallback rows are streamed batch by batch, never gathered.
 */
import { FeatureNotFoundError, ValidationError } from "../errors.js";
import type { ResolveUpdatePlan, UpstreamInput } from "../plan/resolve-update-plan.js";
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
 * Points every upstream of `plan` absent from `store` at the fallback store that has it: the
 * engine then streams that store's rows in batches of `batchSize`.
 */
export async function withFallbackUpstreams(
  store: MetadataStore,
  plan: ResolveUpdatePlan,
  batchSize: number,
): Promise<ResolveUpdatePlan> {
  if (plan.expected.kind !== "upstreams") return plan;
  const upstreams = await Promise.all(
    plan.expected.upstreams.map(async (u): Promise<UpstreamInput> => {
      if (await store.backend.tableExists(u.read.table)) return u;
      const found = await findInFallbacks(store.fallbackStores, u.feature);
      if (!found)
        throw new FeatureNotFoundError(
          `Feature "${u.feature}" (a dependency of "${plan.feature}") has no metadata in store ${store.display()}${store.fallbackStores.length ? " or its fallback stores" : ""}; materialise it first`,
          { feature: u.feature, dependent: plan.feature },
        );
      const schema = (await found.backend.tableSchema(u.read.table)) ?? {};
      const isOpen = () => store.isOpen && found.isOpen;
      const batches = () =>
        whileOpen(
          found.backend.read(u.read, batchSize),
          isOpen,
          `reading "${u.feature}" from a fallback store`,
        );
      return { ...u, inline: { schema, batches } };
    }),
  );
  return { ...plan, expected: { kind: "upstreams", upstreams } };
}

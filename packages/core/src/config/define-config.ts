import { z } from "zod";
import { InvalidConfigError } from "../errors.js";
import type { FeatureGraph } from "../graph/feature-graph.js";
import type { FeatureDefinition } from "../spec/define-feature.js";
import type { Backend } from "../store/backend.js";
import {
  DEFAULT_HASH_TRUNCATION,
  HASH_ALGORITHMS,
  type HashAlgorithm,
} from "../versioning/hash-algorithms.js";

/** Name of the default store when the config names none (SPEC §5.2). */
export const DEFAULT_STORE_NAME = "dev";

/** One named metadata store: how to build its backend, and how it reads other stores. */
export interface StoreConfig {
  /**
   * Builds the backend, e.g. `() => duckdb({ path: ".metaxy/dev.duckdb" })`. The config file imports
   * the backend package itself: core never imports a database client.
   */
  backend: () => Backend | Promise<Backend>;
  /** Names of stores read (whole feature at a time) when a feature is absent from this one. */
  fallbackStores?: string[];
  /** Record-level hash. Default: the config's `hashAlgorithm`, else the backend's default. */
  hashAlgorithm?: HashAlgorithm;
  /** Create feature tables on first write. Default: the config's `autoCreateTables`. */
  autoCreateTables?: boolean;
  /** Shown by `metaxy list stores`. */
  description?: string;
}

/** What `metaxy.config.ts` exports (SPEC §5, TypeScript-flavoured). */
export interface MetaxyConfig {
  /** The current project: `^[a-zA-Z0-9_-]+$`, no `__`. */
  project: string;
  /** The project's features: definitions, or a graph built from them. */
  features: readonly FeatureDefinition[] | FeatureGraph;
  /** Default store name. Default `"dev"`. */
  store?: string;
  stores?: Record<string, StoreConfig>;
  /** Default record-level hash of every store. */
  hashAlgorithm?: HashAlgorithm;
  /** Length of every version hash; at least 8 (default 8). */
  hashTruncationLength?: number;
  /** Create feature tables on first write (core's default: true). */
  autoCreateTables?: boolean;
}

export const PROJECT_PATTERN = /^[a-zA-Z0-9_-]+$/;

export const projectSchema = z
  .string()
  .min(1, "project must not be empty")
  .regex(PROJECT_PATTERN, "project must match ^[a-zA-Z0-9_-]+$")
  .refine((p) => !p.includes("__"), 'project must not contain "__"');

const hashAlgorithmSchema = z.enum(HASH_ALGORITHMS as unknown as [HashAlgorithm, ...HashAlgorithm[]]);

const storeNameSchema = z.string().min(1, "store names must not be empty");

const storeConfigSchema = z.strictObject({
  backend: z.custom<StoreConfig["backend"]>(
    (v) => typeof v === "function",
    "backend must be a function returning a Backend, e.g. () => duckdb({ path })",
  ),
  fallbackStores: z.array(storeNameSchema).optional(),
  hashAlgorithm: hashAlgorithmSchema.optional(),
  autoCreateTables: z.boolean().optional(),
  description: z.string().optional(),
});

const featuresSchema = z.custom<MetaxyConfig["features"]>(
  (v) => Array.isArray(v) || isGraphLike(v),
  "features must be an array of defineFeature(...) results or a FeatureGraph",
);

export const metaxyConfigSchema = z.strictObject({
  project: projectSchema,
  features: featuresSchema,
  store: storeNameSchema.optional(),
  stores: z.record(storeNameSchema, storeConfigSchema).optional(),
  hashAlgorithm: hashAlgorithmSchema.optional(),
  hashTruncationLength: z
    .number()
    .int("hashTruncationLength must be an integer")
    .min(DEFAULT_HASH_TRUNCATION, `hashTruncationLength must be at least ${DEFAULT_HASH_TRUNCATION}`)
    .optional(),
  autoCreateTables: z.boolean().optional(),
});

/** A FeatureGraph, also from another copy of this package (no `instanceof`). */
export function isGraphLike(v: unknown): v is FeatureGraph {
  return (
    typeof v === "object" &&
    v !== null &&
    Array.isArray((v as FeatureGraph).features) &&
    typeof (v as FeatureGraph).topologicalSort === "function"
  );
}

/**
 * Validates a config and returns it unchanged (typed). Use as the default export of
 * `metaxy.config.ts`:
 *
 * ```ts
 * export default defineConfig({ project: "video", features, stores: { dev: { backend: () => duckdb({ path }) } } });
 * ```
 */
export function defineConfig<C extends MetaxyConfig>(config: C): C {
  validateConfig(config);
  return config;
}

/** Throws `InvalidConfigError` describing the first problem; `source` names the file in messages. */
export function validateConfig(config: unknown, source?: string): asserts config is MetaxyConfig {
  const where = source ? ` in ${source}` : "";
  const parsed = metaxyConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue.path.join(".") || "(root)";
    throw new InvalidConfigError(`Invalid Metaxy config${where}: ${path}: ${issue.message}`, {
      path,
      ...(source ? { file: source } : {}),
    });
  }
  const c = config as MetaxyConfig;
  const stores = c.stores ?? {};
  for (const [name, store] of Object.entries(stores))
    for (const fallback of store.fallbackStores ?? []) {
      if (!(fallback in stores))
        throw new InvalidConfigError(
          `Invalid Metaxy config${where}: store "${name}" names fallback store "${fallback}", which is not configured (available: ${Object.keys(stores).join(", ")})`,
          { path: `stores.${name}.fallbackStores`, store: name, ...(source ? { file: source } : {}) },
        );
      if (fallback === name)
        throw new InvalidConfigError(`Invalid Metaxy config${where}: store "${name}" is its own fallback`, {
          path: `stores.${name}.fallbackStores`,
          store: name,
          ...(source ? { file: source } : {}),
        });
    }
}

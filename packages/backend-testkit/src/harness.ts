import {
  type Backend,
  type FeatureGraph,
  type FeatureRef,
  type HashAlgorithm,
  MetadataStore,
  type MetadataStoreOptions,
  type ReadOptions,
  type Row,
} from "@metaxy/core";
import { afterEach } from "vitest";

/** What a backend package passes to `backendConformanceSuite`. */
export interface BackendConformanceOptions {
  /** Shown in the top-level `describe`, e.g. "duckdb (:memory:)". */
  name: string;
  /**
   * A fresh, empty backend. Called once per test (twice for fallback tests, once per generated
   * case in the hash-identity properties), so every call must return an independent store
   * (a new `:memory:` database, a new schema/database on a shared server, ...).
   */
  makeBackend: () => Promise<Backend> | Backend;
  /** Algorithms checked for byte identity. Default: `backend.capabilities.hashAlgorithms`. */
  hashAlgorithms?: HashAlgorithm[];
  /** Called after the stores on a backend are closed (drop the database, delete files, ...). */
  cleanup?: (backend: Backend) => Promise<void>;
  /** fast-check runs per hash algorithm in the hash-identity properties. Default 25. */
  numRuns?: number;
}

export interface ResolvedOptions extends BackendConformanceOptions {
  numRuns: number;
}

export function resolveOptions(options: BackendConformanceOptions): ResolvedOptions {
  return { ...options, numRuns: options.numRuns ?? 25 };
}

export interface OpenOptions extends Omit<Partial<MetadataStoreOptions>, "graph"> {
  /** Open on this backend instead of a fresh one. */
  backend?: Backend;
}

/**
 * Fresh backends and stores for one test (or one generated case), closed and cleaned up by
 * `teardown`. `useHarness` wires `teardown` into `afterEach`.
 */
export class Harness {
  readonly options: ResolvedOptions;
  readonly #backends: Backend[] = [];
  readonly #stores: MetadataStore[] = [];

  constructor(options: ResolvedOptions) {
    this.options = options;
  }

  async backend(): Promise<Backend> {
    const backend = await this.options.makeBackend();
    this.#backends.push(backend);
    return backend;
  }

  /** The algorithm deterministic tests use: the first requested one, else the backend default. */
  defaultAlgorithm(backend: Backend): HashAlgorithm {
    return this.options.hashAlgorithms?.[0] ?? backend.capabilities.defaultHashAlgorithm;
  }

  /** Algorithms checked for byte identity on `backend`. */
  algorithms(backend: Backend): readonly HashAlgorithm[] {
    return this.options.hashAlgorithms ?? backend.capabilities.hashAlgorithms;
  }

  /** Opens a store in write mode on a fresh backend (or `options.backend`). */
  async open(graph: FeatureGraph, options: OpenOptions = {}): Promise<MetadataStore> {
    const { backend: given, ...rest } = options;
    const backend = given ?? (await this.backend());
    const store = await MetadataStore.open(backend, {
      graph,
      hashAlgorithm: this.defaultAlgorithm(backend),
      ...rest,
    });
    this.#stores.push(store);
    return store;
  }

  async teardown(): Promise<void> {
    const errors: unknown[] = [];
    for (const store of this.#stores.splice(0).reverse())
      await store.close().catch((e: unknown) => errors.push(e));
    for (const backend of this.#backends.splice(0).reverse())
      if (this.options.cleanup) await this.options.cleanup(backend).catch((e: unknown) => errors.push(e));
    if (errors.length > 0) throw errors[0];
  }
}

/** A harness torn down after each test of the enclosing `describe`. */
export function useHarness(options: ResolvedOptions): Harness {
  const harness = new Harness(options);
  afterEach(() => harness.teardown());
  return harness;
}

/** `store.read` as plain rows, sorted by `by` (rows come back in no particular order). */
export async function readSorted(
  store: MetadataStore,
  feature: FeatureRef,
  by: string | readonly string[],
  options: ReadOptions = {},
): Promise<Row[]> {
  return sortRows((await store.read(feature, options)) as Row[], by);
}

export function sortRows(rows: readonly Row[], by: string | readonly string[]): Row[] {
  const cols = typeof by === "string" ? [by] : by;
  const key = (r: Row) => JSON.stringify(cols.map((c) => r[c] ?? null));
  return [...rows].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** Values of `column`, sorted: the ids of an increment kind. */
export function idsOf(rows: readonly Row[], column: string): unknown[] {
  return sortRows(rows, column).map((r) => r[column]);
}

import {
  type Backend,
  type BackendCapabilities,
  type FeatureGraph,
  type FeatureRef,
  MetadataStore,
  type MetadataStoreOptions,
  type ReadOptions,
  type Row,
} from "@metaxy/core";
import type { TestApi, TestContext } from "./test-api.js";

/** What a backend package passes to `backendConformanceSuite` and to each suite. */
export interface BackendConformanceOptions {
  /** Shown in every suite's `describe`, e.g. "duckdb (:memory:)". */
  name: string;
  /**
   * A fresh, empty backend. Called once per test (twice for fallback tests, once per generated
   * case in the hash-identity properties), so every call must return an independent store
   * (a new `:memory:` database, a new schema/database on a shared server, ...).
   */
  makeBackend: () => Promise<Backend> | Backend;
  /** Called after the stores on a backend are closed (drop the database, delete files, ...). */
  cleanup?: (backend: Backend) => Promise<void>;
  /** fast-check runs per hash algorithm in the hash-identity properties. Default 25. */
  numRuns?: number;
  /**
   * Multiplies the time limits of the long property tests, for engines that are slow by nature
   * (an emulator whose joins are nested loops). Default 1.
   */
  timeoutFactor?: number;
}

export interface ResolvedOptions extends BackendConformanceOptions {
  numRuns: number;
  timeoutFactor: number;
}

export function resolveOptions(options: BackendConformanceOptions): ResolvedOptions {
  return { ...options, numRuns: options.numRuns ?? 25, timeoutFactor: options.timeoutFactor ?? 1 };
}

/** A suite's `describe` title: the backend's name, then what the suite covers. */
export function suiteTitle(options: BackendConformanceOptions, title: string): string {
  return `${options.name}: ${title}`;
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

  constructor(options: BackendConformanceOptions) {
    this.options = resolveOptions(options);
  }

  async backend(): Promise<Backend> {
    const backend = await this.options.makeBackend();
    this.#backends.push(backend);
    return backend;
  }

  /**
   * A fresh backend when it declares what the case needs; otherwise the case is skipped (through
   * the runner's `skip`, or by returning `null` to a runner without one). Declared capabilities
   * are the only way a backend leaves cases out.
   */
  async backendWith(
    context: TestContext,
    needs: (capabilities: BackendCapabilities) => boolean,
    what: string,
  ): Promise<Backend | null> {
    const backend = await this.backend();
    if (needs(backend.capabilities)) return backend;
    context.skip?.(`${this.options.name} does not declare ${what}`);
    return null;
  }

  /** Opens a store in write mode on a fresh backend (or `options.backend`). */
  async open(graph: FeatureGraph, options: OpenOptions = {}): Promise<MetadataStore> {
    const { backend: given, ...rest } = options;
    const backend = given ?? (await this.backend());
    const store = await MetadataStore.open(backend, {
      graph,
      hashAlgorithm: backend.capabilities.defaultHashAlgorithm,
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
export function useHarness(test: TestApi, options: BackendConformanceOptions): Harness {
  const harness = new Harness(options);
  test.afterEach(() => harness.teardown());
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

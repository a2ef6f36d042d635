import {
  CycleError,
  FieldNotFoundError,
  FeatureConflictError,
  MissingFeatureDependencyError,
  TableNameCollisionError,
  UnknownFeatureError,
} from "../errors.js";
import { FeatureKey, type FQFieldKey, assertUserFeatureKey, compareParts, compareStrings } from "../keys.js";
import type { FeatureDefinition, FeatureRef } from "../spec/define-feature.js";
import { toFeatureKey } from "../spec/define-feature.js";
import { DEFAULT_HASH_TRUNCATION, validateTruncation } from "../versioning/hash-algorithms.js";
import { GraphVersions } from "../versioning/graph-versions.js";
import { type FeaturePlan, buildFeaturePlan } from "./feature-plan.js";
import { parentFieldsOf } from "./field-deps.js";

export const DEFAULT_PROJECT = "default";

export interface FeatureGraphOptions {
  /** Project of features that do not name one. Default `"default"`. */
  project?: string;
  /** Length of every version and record hash (SPEC §2.2). Default 8, minimum 8. */
  hashTruncationLength?: number;
}

export type OnConflict = "raise" | "ignore";

/**
 * The registry of features and their dependency DAG: topological order, cycle detection,
 * downstream lookup, feature plans and every graph-level version.
 */
export class FeatureGraph {
  readonly project: string;
  readonly hashTruncationLength: number;
  readonly #features = new Map<string, FeatureDefinition>();
  /** Table name → feature key: `key.tableName` folds `-` into `_`, so two keys can share a table. */
  readonly #tables = new Map<string, string>();
  #versions: GraphVersions | undefined;

  constructor(features: Iterable<FeatureDefinition> = [], options: FeatureGraphOptions = {}) {
    this.project = options.project ?? DEFAULT_PROJECT;
    this.hashTruncationLength = validateTruncation(options.hashTruncationLength ?? DEFAULT_HASH_TRUNCATION);
    for (const f of features) this.add(f);
  }

  /**
   * Register a feature. Rejects a different definition under a taken key, a key whose table is
   * another feature's or the store's own, and any cycle it would close.
   */
  add(definition: FeatureDefinition, options: { onConflict?: OnConflict } = {}): this {
    const id = definition.key.toString();
    assertUserFeatureKey(definition.key);
    const table = definition.key.tableName;
    const owner = this.#tables.get(table);
    if (owner !== undefined && owner !== id)
      throw new TableNameCollisionError(
        `Features "${owner}" and "${id}" both map to table "${table}" ("-" and "_" are the same in table names); rename one of them`,
        { feature: id, table, features: [owner, id] },
      );
    const existing = this.#features.get(id);
    if (existing && existing !== definition) {
      if (definition.external && !existing.external) return this; // code-defined features win
      if (!(existing.external && !definition.external)) {
        if (options.onConflict === "ignore") return this;
        throw new FeatureConflictError(
          existing.external && definition.external
            ? `External feature with key "${id}" is already registered.`
            : `Feature with key "${id}" is already registered with a different definition` +
                ` (existing source: ${existing.source ?? "unknown"}, new source: ${definition.source ?? "unknown"})`,
          { feature: id },
        );
      }
    }
    this.#features.set(id, definition);
    const cycle = this.#findCycleThrough(definition.key);
    if (cycle) {
      if (existing) this.#features.set(id, existing);
      else this.#features.delete(id);
      throw new CycleError(`Dependency cycle: ${cycle.join(" -> ")}`, { feature: id, cycle });
    }
    this.#tables.set(table, id);
    this.#versions = undefined;
    return this;
  }

  remove(ref: FeatureRef): void {
    const key = toFeatureKey(ref);
    if (!this.#features.delete(key.toString())) throw this.#unknown(key);
    this.#tables.delete(key.tableName);
    this.#versions = undefined;
  }

  /** The feature stored in `table`, if any (table names are unique within a graph). */
  featureOfTable(table: string): FeatureDefinition | undefined {
    const id = this.#tables.get(table);
    return id === undefined ? undefined : this.#features.get(id);
  }

  has(ref: FeatureRef): boolean {
    return this.#features.has(toFeatureKey(ref).toString());
  }

  get(ref: FeatureRef): FeatureDefinition {
    const key = toFeatureKey(ref);
    const def = this.#features.get(key.toString());
    if (!def) throw this.#unknown(key);
    return def;
  }

  /** Features in registration order. */
  get features(): FeatureDefinition[] {
    return [...this.#features.values()];
  }

  get keys(): FeatureKey[] {
    return this.features.map((f) => f.key);
  }

  projectOf(ref: FeatureRef): string {
    return this.get(ref).project ?? this.project;
  }

  /** Features of one project (default: the graph's), code-defined ones only unless `includeExternal`. */
  listFeatures(options: { project?: string | null; includeExternal?: boolean } = {}): FeatureDefinition[] {
    const project = options.project === undefined ? this.project : options.project;
    return this.features.filter(
      (f) =>
        (options.includeExternal || !f.external) &&
        (project === null || (f.project ?? this.project) === project),
    );
  }

  /** Direct upstream keys of a feature (declared feature deps). */
  dependenciesOf(ref: FeatureRef): FeatureKey[] {
    return this.get(ref).spec.deps.map((d) => d.feature);
  }

  /**
   * Upstream-first order: depth-first post-order, roots and deps visited in lowercase key order
   * (Python Metaxy's order). Deps outside `keys` are skipped, not traversed.
   */
  topologicalSort(keys?: Iterable<FeatureRef>, options: { descending?: boolean } = {}): FeatureKey[] {
    const wanted = keys
      ? new Set([...keys].map((k) => toFeatureKey(k).toString()))
      : new Set(this.#features.keys());
    const byLower = (a: string, b: string) => compareStrings(a.toLowerCase(), b.toLowerCase());
    const visited = new Set<string>();
    const out: FeatureKey[] = [];
    const visit = (id: string) => {
      if (visited.has(id)) return;
      visited.add(id);
      const def = this.#features.get(id);
      if (def) {
        const deps = def.spec.deps.map((d) => d.feature.toString()).filter((d) => wanted.has(d));
        for (const d of [...new Set(deps)].sort(byLower)) visit(d);
        out.push(def.key);
      }
    };
    for (const id of [...wanted].sort(byLower)) visit(id);
    return options.descending ? out.reverse() : out;
  }

  /** Every transitive dependent of `sources`, upstream-first, sources excluded. */
  downstreamOf(sources: Iterable<FeatureRef>): FeatureKey[] {
    const start = new Set([...sources].map((s) => toFeatureKey(s).toString()));
    const dependents = new Map<string, string[]>();
    for (const def of this.#features.values())
      for (const d of def.spec.deps) {
        const list = dependents.get(d.feature.toString()) ?? [];
        list.push(def.key.toString());
        dependents.set(d.feature.toString(), list);
      }
    const found = new Set<string>();
    const stack = [...start];
    while (stack.length > 0) {
      const id = stack.pop()!;
      for (const child of dependents.get(id) ?? [])
        if (!found.has(child) && !start.has(child)) {
          found.add(child);
          stack.push(child);
        }
    }
    return this.topologicalSort(found);
  }

  /** Every transitive dependency of `ref` that is in the graph, upstream-first. */
  upstreamOf(ref: FeatureRef): FeatureKey[] {
    const found = new Set<string>();
    const stack = [toFeatureKey(ref).toString()];
    while (stack.length > 0) {
      const def = this.#features.get(stack.pop()!);
      for (const d of def?.spec.deps ?? []) {
        const id = d.feature.toString();
        if (!found.has(id) && this.#features.has(id)) {
          found.add(id);
          stack.push(id);
        }
      }
    }
    return this.topologicalSort(found);
  }

  /** The feature, its direct parents and how they join (SPEC §1.9). */
  plan(ref: FeatureRef): FeaturePlan {
    const def = this.get(ref);
    for (const dep of def.spec.deps)
      if (!this.#features.has(dep.feature.toString()))
        throw new MissingFeatureDependencyError(
          `Feature "${def.key}" depends on "${dep.feature}", which is not in the graph`,
          { feature: def.key.toString(), dependency: dep.feature.toString() },
        );
    return buildFeaturePlan(def, (k) => this.#features.get(k.toString()));
  }

  /** Parent fields of one field of a feature, sorted by FQ key string. */
  parentFields(ref: FeatureRef, field: string): FQFieldKey[] {
    const def = this.get(ref);
    const spec = def.spec.fields.find((f) => f.key.toString() === field);
    if (!spec) throw this.#unknownField(def, field);
    return parentFieldsOf(def, spec, (k) => this.#features.get(k.toString()));
  }

  /** Checks that every dependency is registered and every field resolves its parents. */
  validate(): void {
    for (const def of this.#features.values()) {
      this.plan(def.key);
      for (const f of def.spec.fields) this.versions.fieldVersion(def.key, f.key.toString());
    }
  }

  // ---- versions (SPEC §2.1), cached until the graph changes ----

  get versions(): GraphVersions {
    this.#versions ??= new GraphVersions(this);
    return this.#versions;
  }
  featureVersion(ref: FeatureRef): string {
    return this.versions.featureVersion(toFeatureKey(ref));
  }
  featureVersionByField(ref: FeatureRef): Record<string, string> {
    return this.versions.featureVersionByField(toFeatureKey(ref));
  }
  fieldVersion(ref: FeatureRef, field: string): string {
    return this.versions.fieldVersion(toFeatureKey(ref), field);
  }
  specVersion(ref: FeatureRef): string {
    return this.versions.specVersion(toFeatureKey(ref));
  }
  definitionVersion(ref: FeatureRef): string {
    return this.versions.definitionVersion(toFeatureKey(ref));
  }
  codeVersion(ref: FeatureRef): string {
    return this.versions.codeVersion(toFeatureKey(ref));
  }
  projectVersion(project: string = this.project): string {
    return this.versions.projectVersion(project);
  }

  #findCycleThrough(start: FeatureKey): string[] | null {
    const target = start.toString();
    const path: string[] = [target];
    const onPath = new Set<string>();
    const done = new Set<string>();
    const dfs = (id: string): boolean => {
      onPath.add(id);
      const deps = this.#features.get(id)?.spec.deps ?? [];
      for (const d of deps) {
        const next = d.feature.toString();
        if (next === target) {
          path.push(next);
          return true;
        }
        if (!this.#features.has(next) || onPath.has(next) || done.has(next)) continue;
        path.push(next);
        if (dfs(next)) return true;
        path.pop();
      }
      onPath.delete(id);
      done.add(id);
      return false;
    };
    // path is listed downstream → upstream; show it upstream → downstream, as data flows
    return dfs(target) ? path.reverse() : null;
  }

  #unknown(key: FeatureKey): UnknownFeatureError {
    const available = [...this.#features.keys()].sort(compareStrings);
    return new UnknownFeatureError(
      `Feature "${key}" is not in the graph. Available: ${available.join(", ") || "(none)"}`,
      { feature: key.toString(), available },
    );
  }

  #unknownField(def: FeatureDefinition, field: string): Error {
    return new FieldNotFoundError(`Feature "${def.key}" has no field "${field}"`, {
      feature: def.key.toString(),
      field,
    });
  }

  /** Sorted by key parts (the project-version order). */
  static compareKeys(a: FeatureKey, b: FeatureKey): number {
    return compareParts(a.parts, b.parts);
  }
}

export { FeatureKey };

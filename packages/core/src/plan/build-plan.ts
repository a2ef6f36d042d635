import {
  FeatureNotFoundError,
  InvalidRenameError,
  RootFeatureWithoutSamplesError,
  ValidationError,
} from "../errors.js";
import type { FeatureGraph } from "../graph/feature-graph.js";
import type { FeaturePlan } from "../graph/feature-plan.js";
import { type FeatureKey, compareStrings } from "../keys.js";
import type { FeatureDefinition, FeatureDep } from "../spec/define-feature.js";
import { isSystemColumn } from "../spec/system-columns.js";
import type { HashAlgorithm } from "../versioning/hash-algorithms.js";
import type { Expr } from "./expression.js";
import type { ReadQuery } from "./read-query.js";
import type {
  ExpectedFromUpstreams,
  JoinKind,
  JoinedColumn,
  PlannedField,
  InlineRows,
  ResolveUpdatePlan,
  Row,
  UpstreamInput,
  UpstreamLineage,
} from "./resolve-update-plan.js";
import { checkColumnCollisions, renamedColumns, selectedColumns } from "./upstream-columns.js";

/** Where a dependency's rows are, as the store found them. */
export interface UpstreamSource {
  /** Every column of the stored table, system columns included. */
  readonly columns: readonly string[];
  /** A fallback store's rows, streamed through the upstream's read instead of the table. */
  readonly inline?: InlineRows;
}

export interface BuildPlanOptions {
  hashAlgorithm: HashAlgorithm;
  truncation: number | null;
  samples?: readonly Row[];
  /** Runtime filters per upstream feature key string (applied when that upstream is read). */
  filters?: Readonly<Record<string, readonly Expr[]>>;
  /** Applied to every upstream read and to the target. */
  globalFilters?: readonly Expr[];
  /** Applied to the target's current rows (and to samples). */
  targetFilters?: readonly Expr[];
  stalenessPredicates?: readonly Expr[];
  skipComparison?: boolean;
  /**
   * Per dependency, in declared order: where it is stored (see `upstreamReads`); null or absent
   * when no store has it. Not read with `samples`.
   */
  upstreams?: readonly (UpstreamSource | null)[];
  /** The stores searched, named in the error for a dependency none of them has. */
  storeDescription?: string;
}

/** Every dependency's read (latest live rows of its current version, runtime and global filters). */
export function upstreamReads(
  graph: FeatureGraph,
  key: FeatureKey,
  options: Pick<BuildPlanOptions, "filters" | "globalFilters">,
): Array<{ feature: string; read: ReadQuery }> {
  return graph.plan(key).deps.map((up) => ({
    feature: up.key.toString(),
    read: {
      table: up.key.tableName,
      idColumns: up.spec.idColumns,
      featureVersion: graph.featureVersion(up.key),
      latestOnly: true,
      includeSoftDeleted: false,
      filters: [...(options.filters?.[up.key.toString()] ?? []), ...(options.globalFilters ?? [])],
      columns: null,
    },
  }));
}

/**
 * Builds the resolve-update plan of `feature` (SPEC §3.2, DESIGN §3). Every decision is taken
 * here, once: column lists, the collision check, join kinds and order, aggregation order,
 * reduction and collapse. Engines only interpret the result.
 */
export function buildResolveUpdatePlan(
  graph: FeatureGraph,
  key: FeatureKey,
  options: BuildPlanOptions,
): ResolveUpdatePlan {
  const plan = graph.plan(key);
  const def = plan.feature;
  const feature = def.key.toString();
  if (plan.isRoot && !options.samples)
    throw new RootFeatureWithoutSamplesError(
      `Feature "${feature}" has no upstream dependencies (root feature). Pass \`samples\` with its metaxy_provenance_by_field to resolve it.`,
      { feature },
    );
  validateRenames(def, plan.deps);

  const targetFilters = [
    ...(options.filters?.[feature] ?? []),
    ...(options.globalFilters ?? []),
    ...(options.targetFilters ?? []),
  ];
  const current: ReadQuery = {
    table: def.key.tableName,
    idColumns: def.spec.idColumns,
    featureVersion: graph.featureVersion(def.key),
    latestOnly: true,
    includeSoftDeleted: false,
    filters: targetFilters,
    columns: null,
  };
  const joinColumns = plan.inputIdColumns.length > 0 ? plan.inputIdColumns : def.spec.idColumns;
  if (joinColumns.length === 0)
    throw new ValidationError(`Feature "${feature}": its dependencies share no id columns to join on`, {
      feature,
    });

  const upstreamIndex = new Map(plan.deps.map((up, i) => [up.key.toString(), i]));
  const fields: PlannedField[] = def.spec.fields.map((f) => ({
    keyString: f.key.toString(),
    structKey: f.key.toStructKey(),
    codeVersion: f.codeVersion,
    parents: (plan.fieldParents.get(f.key.toString()) ?? []).map((p) => {
      const index = upstreamIndex.get(p.feature.toString())!;
      return {
        fqKey: p.toString(),
        upstream: index,
        structKey: p.field.toStructKey(),
        optional: plan.featureDeps[index].optional,
      };
    }),
  }));
  const expansion = !options.samples && plan.featureDeps.some((d) => d.lineage.type === "expansion");

  return {
    feature,
    table: def.key.tableName,
    hashAlgorithm: options.hashAlgorithm,
    truncation: options.truncation,
    expected: options.samples
      ? { kind: "samples", rows: options.samples, filters: targetFilters }
      : planUpstreams(graph, plan, options, joinColumns),
    diffColumns: joinColumns,
    fields,
    recordOrder: fields.map((f) => f.structKey).sort(compareStrings),
    current,
    collapseCurrent: expansion ? { by: joinColumns } : null,
    stalenessPredicates: options.stalenessPredicates ?? [],
    skipComparison: options.skipComparison ?? false,
    failures: null,
  };
}

function planUpstreams(
  graph: FeatureGraph,
  plan: FeaturePlan,
  options: BuildPlanOptions,
  joinColumns: readonly string[],
): ExpectedFromUpstreams {
  const feature = plan.feature.key.toString();
  const sources = plan.deps.map((_, i) => options.upstreams?.[i] ?? null);
  const reads = upstreamReads(graph, plan.feature.key, options);
  const notFound = (i: number) =>
    new FeatureNotFoundError(
      `Feature "${reads[i].feature}" (a dependency of "${feature}") has no metadata in ${options.storeDescription ?? "the store"}; materialise it first`,
      { feature: reads[i].feature, dependent: feature },
    );
  // A dependency no store has yet is shaped from its declared schema, so definition errors
  // (unknown selected column, column collision) show before any data exists.
  const stored = plan.deps.map(
    (up, i) => sources[i]?.columns ?? (up.schema ? Object.keys(up.schema.shape) : null),
  );
  const unknown = stored.indexOf(null);
  if (unknown >= 0) throw notFound(unknown);

  const upstreams = plan.featureDeps.map((dep, i) =>
    shapeUpstream(plan, dep, i, stored[i]!, reads[i].read, joinColumns),
  );
  if (upstreams.length > 1) checkColumnCollisions(feature, upstreams, joinColumns);
  const missing = sources.indexOf(null);
  if (missing >= 0) throw notFound(missing);

  // Required dependencies inner-joined in declared order, then optional ones: left-joined when
  // something is required, else full outer joined (SPEC §2.6, join).
  const required = plan.featureDeps.flatMap((d, i) => (d.optional ? [] : [i]));
  const optional = plan.featureDeps.flatMap((d, i) => (d.optional ? [i] : []));
  const joinOrder = [...required, ...optional];
  const joinOf = (i: number): JoinKind | null =>
    i === joinOrder[0]
      ? null
      : !plan.featureDeps[i].optional
        ? "inner"
        : required.length > 0
          ? "left"
          : "full";

  const taken = new Set(joinColumns);
  const joinedColumns: JoinedColumn[] = [];
  for (const i of joinOrder) {
    const lineage = upstreams[i].lineage;
    // An aggregated upstream leaves one row per group: only its group columns remain.
    const names = lineage.type === "aggregation" ? lineage.on : upstreams[i].columns.map((c) => c.name);
    for (const name of names)
      if (!taken.has(name)) {
        taken.add(name);
        joinedColumns.push({ name, upstream: i });
      }
  }
  const aggregation = upstreams.some((u) => u.lineage.type === "aggregation");
  return {
    kind: "upstreams",
    upstreams: upstreams.map((u, i) => ({
      ...u,
      join: joinOf(i),
      ...(sources[i]?.inline ? { inline: sources[i].inline } : {}),
    })),
    joinOrder,
    joinColumns,
    joinedColumns,
    reduce: aggregation ? { by: joinColumns } : null,
    columns: aggregation ? [...joinColumns] : [...joinColumns, ...joinedColumns.map((c) => c.name)],
  };
}

/** Rename, select and lineage of one dependency (SPEC §2.6 steps 2–5). */
function shapeUpstream(
  plan: FeaturePlan,
  dep: FeatureDep,
  i: number,
  storedColumns: readonly string[],
  read: ReadQuery,
  joinColumns: readonly string[],
): Omit<UpstreamInput, "join" | "inline"> {
  const feature = plan.feature.key.toString();
  const up = plan.deps[i];
  const upKey = up.key.toString();
  const suffix = up.key.toColumnSuffix();
  const rename = dep.rename ?? {};
  const upIds = up.spec.idColumns.map((c) => rename[c] ?? c);
  const on =
    dep.lineage.type === "aggregation"
      ? (dep.lineage.on ?? plan.feature.spec.idColumns)
      : dep.lineage.type === "expansion"
        ? dep.lineage.on
        : [];
  let select: string[] | null = null;
  if (dep.select) {
    select = [...dep.select];
    // Ids stay selected for identity and aggregation: aggregation concatenates members in id order.
    const required = [
      ...(dep.lineage.type === "expansion"
        ? on
        : dep.lineage.type === "aggregation"
          ? [...on, ...upIds]
          : upIds),
      ...joinColumns.filter((c) => upIds.includes(c)),
    ];
    for (const c of required) if (!select.includes(c)) select.push(c);
  }
  const renamed = renamedColumns(storedColumns, rename, suffix);
  const columns = selectedColumns(feature, upKey, renamed.user, select);
  let lineage: UpstreamLineage;
  if (dep.lineage.type === "aggregation") {
    const kept = new Set(columns.map((c) => c.name));
    const orderBy = upIds.filter((c) => kept.has(c));
    lineage = {
      type: "aggregation",
      on,
      orderBy: orderBy.length > 0 ? orderBy : on,
      fieldStructKeys: up.spec.fields.map((f) => f.key.toStructKey()).sort(),
    };
  } else lineage = dep.lineage.type === "expansion" ? { type: "expansion", on } : { type: "identity" };
  return {
    feature: upKey,
    suffix,
    read,
    renamed: [...renamed.user, ...renamed.system],
    filters: dep.filterExprs,
    columns,
    lineage,
  };
}

/** Definition-time rename rules (SPEC §2.6, last paragraph). */
function validateRenames(def: FeatureDefinition, deps: readonly FeatureDefinition[]): void {
  const feature = def.key.toString();
  const targets = new Map<string, string>();
  def.spec.deps.forEach((dep, i) => {
    const upIds = new Set(deps[i].spec.idColumns);
    for (const [from, to] of Object.entries(dep.rename ?? {})) {
      if (isSystemColumn(to) || isSystemColumn(from))
        throw new InvalidRenameError(
          `Feature "${feature}": dependency "${dep.feature}" renames "${from}" to "${to}"; system columns cannot be renamed or overwritten`,
          { feature, dependency: dep.feature.toString(), column: isSystemColumn(to) ? to : from },
        );
      if (upIds.has(to) && !upIds.has(from))
        throw new InvalidRenameError(
          `Feature "${feature}": dependency "${dep.feature}" renames "${from}" onto its id column "${to}"`,
          { feature, dependency: dep.feature.toString(), column: to },
        );
      const key = `${dep.feature}:${to}`;
      if (targets.has(key))
        throw new InvalidRenameError(
          `Feature "${feature}": dependency "${dep.feature}" renames two columns to "${to}"`,
          { feature, dependency: dep.feature.toString(), column: to },
        );
      targets.set(key, from);
    }
  });
}

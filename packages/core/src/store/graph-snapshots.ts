/**
 * Graph snapshots in `metaxy_system__feature_versions` (SPEC §4.9): pushing the current graph of a
 * project, listing pushed project versions and rebuilding a pushed graph.
 */
import { SystemDataNotFoundError, ValidationError } from "../errors.js";
import { DEFAULT_PROJECT, type FeatureGraph } from "../graph/feature-graph.js";
import { type GraphSnapshot, graphFromSnapshot } from "../graph/snapshot.js";
import { eq } from "../plan/expression.js";
import type { ReadQuery } from "../plan/read-query.js";
import type { Row } from "../plan/resolve-update-plan.js";
import { specToJson } from "../spec/define-feature.js";
import { pythonJsonDumpsUnsorted } from "../versioning/python-json.js";
import type { Backend } from "./backend.js";
import {
  FEATURE_VERSIONS_KEY,
  FEATURE_VERSIONS_SCHEMA,
  type GraphSnapshotSummary,
  METAXY_TS_VERSION,
  type PushResult,
} from "./system-tables.js";

/** What the snapshot operations need of their store. */
export interface SnapshotContext {
  readonly graph: FeatureGraph;
  readonly backend: Backend;
  readonly truncation: number;
  readonly batchSize: number;
  /** The store's write timestamp (strictly increasing). */
  timestamp(): Date;
}

export interface PushOptions {
  project?: string;
  tags?: Record<string, string>;
}

/** Records the graph of a project; a project version already recorded only rewrites changed features. */
export async function pushGraphSnapshot(
  ctx: SnapshotContext,
  options: PushOptions = {},
): Promise<PushResult> {
  const { graph } = ctx;
  const project = options.project ?? graph.project ?? DEFAULT_PROJECT;
  if (options.tags && "metaxy" in options.tags) throw new ValidationError('Tag "metaxy" is reserved');
  const features = graph.listFeatures({ project });
  if (features.length === 0)
    throw new ValidationError(`Project "${project}" has no features to push`, { project });
  const projectVersion = graph.projectVersion(project);
  const recordedAt = ctx.timestamp();
  // json.dumps both levels, as Python Metaxy's FeatureVersionsModel renders its tags.
  const tags = pythonJsonDumpsUnsorted({
    ...(options.tags ?? {}),
    metaxy: pythonJsonDumpsUnsorted({ version: METAXY_TS_VERSION }),
  });
  let rows: Row[] = features.map((f) => ({
    project,
    feature_key: f.key.toString(),
    metaxy_feature_version: graph.featureVersion(f.key),
    metaxy_definition_version: graph.definitionVersion(f.key),
    recorded_at: recordedAt,
    // Python's `json.dumps(val)` (", " and ": " separators, non-ASCII escaped), as Python Metaxy writes them.
    feature_spec: pythonJsonDumpsUnsorted(specToJson(f.spec)),
    feature_schema: pythonJsonDumpsUnsorted(f.featureSchema),
    feature_class_path: f.pythonClass,
    metaxy_project_version: projectVersion,
    tags,
    deleted_at: null,
  }));
  const existing = await featureVersionRows(ctx, project);
  const latest = existing.reduce<Row | null>(
    (a, r) => (!a || (r.recorded_at as Date) > (a.recorded_at as Date) ? r : a),
    null,
  );
  const alreadyPushed = latest?.metaxy_project_version === projectVersion;
  let updated: string[] = [];
  if (alreadyPushed) {
    const recorded = new Map<string, Row>();
    for (const r of existing)
      if (r.metaxy_project_version === projectVersion) {
        const prev = recorded.get(r.feature_key as string);
        if (!prev || (r.recorded_at as Date) >= (prev.recorded_at as Date))
          recorded.set(r.feature_key as string, r);
      }
    rows = rows.filter(
      (r) => recorded.get(r.feature_key as string)?.metaxy_definition_version !== r.metaxy_definition_version,
    );
    updated = rows.map((r) => r.feature_key as string);
  }
  if (rows.length > 0)
    await ctx.backend.write([
      {
        table: FEATURE_VERSIONS_KEY.tableName,
        feature: FEATURE_VERSIONS_KEY.toString(),
        schema: FEATURE_VERSIONS_SCHEMA,
        rows,
      },
    ]);
  return { projectVersion, alreadyPushed, updatedFeatures: updated };
}

/** Pushed snapshots of a project, newest first. */
export async function listGraphSnapshots(
  ctx: SnapshotContext,
  project: string,
): Promise<GraphSnapshotSummary[]> {
  const rows = await featureVersionRows(ctx, project);
  const byVersion = new Map<string, { recordedAt: Date; features: Set<string> }>();
  for (const r of rows) {
    const v = r.metaxy_project_version as string;
    const entry = byVersion.get(v) ?? { recordedAt: r.recorded_at as Date, features: new Set<string>() };
    if ((r.recorded_at as Date) < entry.recordedAt) entry.recordedAt = r.recorded_at as Date;
    entry.features.add(r.feature_key as string);
    byVersion.set(v, entry);
  }
  return [...byVersion.entries()]
    .map(([projectVersion, e]) => ({
      projectVersion,
      recordedAt: e.recordedAt,
      featureCount: e.features.size,
    }))
    .sort((a, b) => b.recordedAt.getTime() - a.recordedAt.getTime());
}

/** Rebuilds the graph recorded under a project version (never imports code). */
export async function loadGraphSnapshot(
  ctx: SnapshotContext,
  projectVersion: string,
  project: string,
): Promise<FeatureGraph> {
  const rows = (await featureVersionRows(ctx, project)).filter(
    (r) => r.metaxy_project_version === projectVersion,
  );
  if (rows.length === 0)
    throw new SystemDataNotFoundError(
      `No graph snapshot ${projectVersion} for project "${project}". Run \`metaxy push\` first.`,
      { project, projectVersion },
    );
  const latest = new Map<string, Row>();
  for (const r of rows) latest.set(r.feature_key as string, r);
  const snapshot: GraphSnapshot = {};
  for (const [key, r] of latest)
    snapshot[key] = {
      feature_spec: JSON.parse(r.feature_spec as string),
      feature_schema: JSON.parse(r.feature_schema as string),
      metaxy_feature_version: r.metaxy_feature_version as string,
      metaxy_definition_version: r.metaxy_definition_version as string,
      feature_class_path: (r.feature_class_path as string | null) ?? null,
      project,
    };
  return graphFromSnapshot(snapshot, { project, hashTruncationLength: ctx.truncation });
}

async function featureVersionRows(ctx: SnapshotContext, project: string): Promise<Row[]> {
  const table = FEATURE_VERSIONS_KEY.tableName;
  if (!(await ctx.backend.tableExists(table))) return [];
  const out: Row[] = [];
  const query: ReadQuery = {
    table,
    idColumns: [],
    featureVersion: null,
    latestOnly: false,
    includeSoftDeleted: true,
    filters: [eq("project", project)],
    columns: null,
  };
  for await (const b of ctx.backend.read(query, ctx.batchSize)) out.push(...b);
  return out;
}

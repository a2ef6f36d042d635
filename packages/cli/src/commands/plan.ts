import {
  type FeatureGraph,
  type FeatureKey,
  InvalidConfigError,
  type MetadataStore,
  MetaxyError,
  PROVENANCE_BY_FIELD,
  type Row,
  parseFilters,
} from "@metaxy/core";
import type { Command } from "commander";
import {
  type AffectedRecord,
  type CascadeInput,
  type CascadeResult,
  estimateCascade,
  idKey,
} from "../analysis/cascade.js";
import { type Context, PLAIN_FORMATS } from "../context.js";
import type { Wrap } from "../main.js";
import { plural } from "../output/format.js";
import { renderTable } from "../output/table.js";
import { collect, selectFeatures } from "../selection.js";

interface PlanFlags {
  allFeatures?: boolean;
  globalFilter: string[];
  cost?: boolean;
}

export function registerPlanCommand(program: Command, wrap: Wrap): void {
  program
    .command("plan")
    .description(
      "What a pipeline run would recompute now, per feature: new/stale/orphaned records, plus the\n" +
        "downstream cascade (records that become stale once their upstream features have run)",
    )
    .argument(
      "[keys...]",
      "limit the report to these features (the cascade is always computed over the whole graph)",
    )
    .option("--all-features", "every feature of the project (the default)")
    .option(
      "--global-filter <expr>",
      "SQL WHERE filter applied to every feature read (repeatable)",
      collect,
      [],
    )
    .option(
      "--cost",
      "ask the engine what each resolve would scan before running it (BigQuery: a dry run, bytes billed on demand)",
    )
    .action(wrap((ctx, keys: string[], flags: PlanFlags) => runPlan(ctx, keys, flags)));
}

async function runPlan(ctx: Context, keys: string[], flags: PlanFlags): Promise<void> {
  const format = ctx.format(PLAIN_FORMATS);
  parseFilters(flags.globalFilter);
  const config = await ctx.config();
  const graph = config.graph;
  const shown = new Set(
    selectFeatures(graph, keys, flags.allFeatures, { required: false, unknown: "warn" }, (m) =>
      ctx.warn(m),
    ).map(String),
  );
  // The cascade needs every upstream of the shown features.
  const needed = new Set(shown);
  for (const k of shown) for (const u of graph.upstreamOf(k)) needed.add(u.toString());
  const order = graph.topologicalSort(needed);
  await ctx.withStore("r", async (store) => {
    const inputs: CascadeInput[] = [];
    ctx.progress.start("plan", order.length);
    try {
      for (const [i, key] of order.entries()) {
        ctx.progress.step(i, key.toString());
        inputs.push(await gather(store, graph, key, flags, inputs));
      }
    } finally {
      ctx.progress.done();
    }
    const costs = flags.cost ? await estimateCosts(store, graph, order, shown, flags) : null;
    const results = estimateCascade(inputs)
      .filter((r) => shown.has(r.feature_key))
      .map((r) => (costs ? { ...r, estimated_bytes_processed: costs.get(r.feature_key) ?? null } : r));
    const affected = results.filter((r) => r.total > 0);
    const totals = {
      direct: results.reduce((a, r) => a + (r.direct ? r.direct.new + r.direct.stale : 0), 0),
      cascaded: results.reduce((a, r) => a + r.cascaded, 0),
      total: results.reduce((a, r) => a + r.total, 0),
      orphaned: results.reduce((a, r) => a + (r.direct?.orphaned ?? 0), 0),
    };
    if (format === "json") {
      ctx.json({
        project: config.project,
        project_version: graph.projectVersion(),
        store: store.name ?? null,
        features: results,
        totals,
        features_affected: affected.length,
        ...(costs
          ? { estimated_bytes_processed: [...costs.values()].reduce<number>((a, b) => a + (b ?? 0), 0) }
          : {}),
      });
      return;
    }
    ctx.print(
      `Plan for project ${config.project} on ${store.display()}: what a pipeline run would recompute now`,
    );
    ctx.print();
    const dash = (r: CascadeResult, n: number | undefined) => (r.direct ? n : "-");
    ctx.print(
      renderTable(
        [
          "Feature",
          { header: "Rows", align: "right" },
          { header: "New", align: "right" },
          { header: "Stale", align: "right" },
          { header: "Orphaned", align: "right" },
          { header: "Cascaded", align: "right" },
          { header: "Total", align: "right" },
          ...(costs ? [{ header: "Scan (dry run)", align: "right" as const }] : []),
          "Notes",
        ],
        results.map((r) => [
          r.feature_key,
          r.rows,
          dash(r, r.direct?.new),
          dash(r, r.direct?.stale),
          dash(r, r.direct?.orphaned),
          r.is_root && r.cascaded === 0 ? "-" : `${r.estimate === "upper_bound" ? "≤" : ""}${r.cascaded}`,
          r.is_root && r.total === 0 ? "-" : `${r.estimate === "upper_bound" ? "≤" : ""}${r.total}`,
          ...(costs ? [costs.has(r.feature_key) ? formatBytes(costs.get(r.feature_key)!) : "-"] : []),
          notesText(r),
        ]),
      ),
    );
    ctx.print();
    ctx.print(
      totals.total === 0
        ? `Nothing to recompute${totals.orphaned ? `; ${plural(totals.orphaned, "orphaned record")}` : ""}.`
        : `Total: ${plural(totals.total, "record")} to recompute in ${plural(affected.length, "feature")} (${totals.direct} direct, ${totals.cascaded} cascaded)${totals.orphaned ? `; ${totals.orphaned} orphaned` : ""}`,
    );
  });
}

/**
 * The engine's estimate of each shown feature's full resolve (roots have none: their records come
 * from ingestion). A backend without a cost model is an error: `--cost` asked for something it
 * cannot give, and a blank column would read as "free".
 */
async function estimateCosts(
  store: MetadataStore,
  graph: FeatureGraph,
  order: readonly FeatureKey[],
  shown: ReadonlySet<string>,
  flags: PlanFlags,
): Promise<Map<string, number | null>> {
  const estimate = store.backend.estimateResolveCost?.bind(store.backend);
  if (!estimate)
    throw new InvalidConfigError(
      `metaxy plan --cost: store ${store.display()} (${store.backend.kind}) cannot estimate a resolve's cost before running it; only engines with dry runs (BigQuery) can`,
      { backend: store.backend.kind },
    );
  const costs = new Map<string, number | null>();
  for (const key of order) {
    if (!shown.has(key.toString()) || graph.plan(key).isRoot) continue;
    try {
      const plan = await store.planResolveUpdate(key, { globalFilters: flags.globalFilter });
      costs.set(key.toString(), (await estimate(plan)).bytesProcessed);
    } catch (e) {
      // An upstream without metadata yet has nothing to scan; other errors are the engine's.
      if (MetaxyError.isInstance(e) && e.code === "FEATURE_NOT_FOUND") costs.set(key.toString(), null);
      else throw e;
    }
  }
  return costs;
}

function formatBytes(n: number | null): string {
  if (n === null) return "-";
  const units = ["B", "KB", "MB", "GB", "TB", "PB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

function notesText(r: CascadeResult): string {
  const parts: string[] = [];
  if (r.error) parts.push(`error: ${r.error}`);
  if (r.via.length > 0 && r.cascaded > 0) parts.push(`via ${r.via.join(", ")}`);
  parts.push(...r.notes);
  return parts.join("; ");
}

async function safeCount(store: MetadataStore, key: FeatureKey, history: boolean): Promise<number> {
  try {
    return await store.count(key, { withFeatureHistory: history });
  } catch (e) {
    if (MetaxyError.isInstance(e) && e.code === "FEATURE_NOT_FOUND") return 0;
    throw e;
  }
}

async function gather(
  store: MetadataStore,
  graph: FeatureGraph,
  key: FeatureKey,
  flags: PlanFlags,
  previous: readonly CascadeInput[],
): Promise<CascadeInput> {
  const plan = graph.plan(key);
  const def = plan.feature;
  const keyColumns =
    plan.isRoot || plan.inputIdColumns.length === 0 ? [...def.spec.idColumns] : [...plan.inputIdColumns];
  // Columns the direct dependents need to map this feature's records onto theirs.
  const exportColumns = new Set(keyColumns);
  for (const dependent of graph.features)
    for (const dep of dependent.spec.deps)
      if (dep.feature.equals(key)) {
        const dPlan = graph.plan(dependent.key);
        const inverse = Object.fromEntries(Object.entries(dep.rename ?? {}).map(([a, b]) => [b, a]));
        const cols = dPlan.inputIdColumns.length > 0 ? dPlan.inputIdColumns : dependent.spec.idColumns;
        for (const c of cols) exportColumns.add(inverse[c] ?? c);
      }
  const fieldParents = new Map(
    [...plan.fieldParents.entries()].map(([f, parents]) => [
      f,
      parents.map((p) => ({ feature: p.feature.toString(), field: p.field.toString() })),
    ]),
  );
  const renames = new Map(def.spec.deps.map((d) => [d.feature.toString(), d.rename ?? {}]));
  const rows = await safeCount(store, key, false);
  const historyRows = await safeCount(store, key, true);
  const notes: string[] = [];
  const input: CascadeInput = {
    key: key.toString(),
    isRoot: plan.isRoot,
    keyColumns,
    exportColumns: [...exportColumns],
    fields: def.spec.fields.map((f) => f.key.toString()),
    fieldParents,
    renames,
    rows,
    direct: null,
    directAffected: [],
    versionChanged: null,
    notes,
  };
  const versionChanged = rows === 0 && historyRows > 0;
  if (plan.isRoot) {
    notes.push(
      versionChanged
        ? `definition changed: ${plural(historyRows, "record")} stored at older versions need re-ingesting`
        : "root: new records come from ingestion",
    );
    return input;
  }
  for (const dep of def.spec.deps) {
    const up = previous.find((p) => p.key === dep.feature.toString());
    if (up && up.rows === 0 && (await safeCount(store, dep.feature, true)) > 0)
      notes.push(`upstream ${dep.feature} has no rows at its current version yet`);
  }
  const affected: AffectedRecord[] = [];
  try {
    const increment = await store.resolveUpdate(key, { globalFilters: flags.globalFilter });
    try {
      const counts = await increment.counts();
      input.direct = { new: counts.new, stale: counts.stale, orphaned: counts.orphaned };
      for await (const batch of increment.batches("new", { batchSize: 10_000 }))
        for (const r of batch) affected.push({ row: project(r, input.exportColumns), fields: "all" });
      if (counts.stale > 0) {
        const stored =
          def.spec.fields.length > 1 && !plan.featureDeps.some((d) => d.lineage.type === "expansion")
            ? await storedProvenance(store, key, keyColumns)
            : null;
        const structToField = new Map(def.spec.fields.map((f) => [f.key.toStructKey(), f.key.toString()]));
        for await (const batch of increment.batches("stale", { batchSize: 10_000 }))
          for (const r of batch) {
            const before = stored?.get(idKey(r, keyColumns));
            const after = r[PROVENANCE_BY_FIELD] as Record<string, string> | undefined;
            let fields: AffectedRecord["fields"] = "all";
            if (before && after) {
              const changed = new Set<string>();
              for (const [structKey, field] of structToField)
                if (before[structKey] !== after[structKey]) changed.add(field);
              if (changed.size > 0) fields = changed;
            }
            affected.push({ row: project(r, input.exportColumns), fields });
          }
      }
    } finally {
      await increment.dispose();
    }
  } catch (e) {
    if (!MetaxyError.isInstance(e)) throw e;
    if (e.code === "FEATURE_NOT_FOUND" && e.details.dependent)
      notes.push(`upstream ${e.details.feature} has no metadata yet`);
    else input.error = e.message;
  }
  input.directAffected = affected;
  if (versionChanged && (input.direct?.new ?? 0) === 0) {
    notes.push(
      `definition changed: ${plural(historyRows, "record")} stored at older versions will be recomputed`,
    );
    input.versionChanged = await historyIds(store, key, keyColumns, input.exportColumns, historyRows);
  }
  return input;
}

function project(row: Row, columns: readonly string[]): Row {
  const out: Row = {};
  for (const c of columns) if (row[c] !== undefined) out[c] = row[c];
  return out;
}

/** Stored `metaxy_provenance_by_field` per record (current version), to see which fields changed. */
async function storedProvenance(
  store: MetadataStore,
  key: FeatureKey,
  keyColumns: readonly string[],
): Promise<Map<string, Record<string, string>> | null> {
  const holder = await store.findStoreFor(key, true);
  if (!holder) return null;
  const columns = await holder.backend.tableColumns(key.tableName);
  if (!columns || keyColumns.some((c) => !columns.includes(c))) return null;
  const out = new Map<string, Record<string, string>>();
  for await (const batch of store.readBatches(key, { columns: [...keyColumns, PROVENANCE_BY_FIELD] }))
    for (const r of batch) out.set(idKey(r, keyColumns), r[PROVENANCE_BY_FIELD] as Record<string, string>);
  return out;
}

/** Ids of the records stored at any version (what a changed definition recomputes). */
async function historyIds(
  store: MetadataStore,
  key: FeatureKey,
  keyColumns: readonly string[],
  exportColumns: readonly string[],
  count: number,
): Promise<{ rows: Row[] } | { count: number }> {
  const holder = await store.findStoreFor(key, true);
  const columns = holder ? await holder.backend.tableColumns(key.tableName) : null;
  if (!columns || keyColumns.some((c) => !columns.includes(c))) return { count };
  const wanted = exportColumns.filter((c) => columns.includes(c));
  const rows: Row[] = [];
  for await (const batch of store.readBatches(key, { withFeatureHistory: true, columns: wanted }))
    rows.push(...batch);
  return { rows };
}

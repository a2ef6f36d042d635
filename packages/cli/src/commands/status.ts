import {
  type FeatureGraph,
  type FeatureKey,
  type Increment,
  type MetadataStore,
  MetaxyError,
  type Row,
  parseFilters,
} from "@metaxy/core";
import type { Command } from "commander";
import { type Context, PLAIN_FORMATS } from "../context.js";
import type { Wrap } from "../main.js";
import { metadataGroup } from "./metadata.js";
import { percent, plural } from "../output/format.js";
import { renderTable } from "../output/table.js";
import { collect, selectFeatures } from "../selection.js";

export type FeatureStatus = "missing" | "root_feature" | "needs_update" | "up_to_date" | "error";

export interface FeatureStatusEntry {
  feature_key: string;
  status: FeatureStatus;
  needs_update: boolean;
  /** Null when the feature failed before its rows were counted. */
  metadata_exists: boolean | null;
  store_rows: number | null;
  /** New records (SPEC calls them "missing"); null for root features. */
  missing: number | null;
  stale: number | null;
  orphaned: number | null;
  /** Records set aside because their computation failed for good at this provenance. */
  failed: number | null;
  target_version: string;
  is_root_feature: boolean;
  progress_percentage: number | null;
  store_metadata: { name: string | null; display: string } | null;
  /** Set when the feature failed; the counts that were not reached stay null. */
  error?: { code: string; message: string };
  error_message?: string;
  sample_details?: { missing: Row[]; stale: Row[]; orphaned: Row[] };
}

interface StatusFlags {
  allFeatures?: boolean;
  filter: string[];
  globalFilter: string[];
  staleIf: string[];
  assertInSync?: boolean;
  verbose?: boolean;
  progress?: boolean;
}

const SYMBOL: Record<FeatureStatus, string> = {
  missing: "✗",
  root_feature: "○",
  needs_update: "⚠",
  up_to_date: "✓",
  error: "!",
};
const LABEL: Record<FeatureStatus, string> = {
  missing: "missing",
  root_feature: "root",
  needs_update: "needs update",
  up_to_date: "up to date",
  error: "error",
};

export function registerStatusCommand(program: Command, wrap: Wrap): void {
  const metadata = metadataGroup(program);
  for (const [parent, name] of [
    [program, "status"],
    [metadata, "status"],
  ] as const)
    parent
      .command(name)
      .description("Per feature: stored rows and what needs (re)computing (new, stale, orphaned, progress)")
      .argument("[keys...]", "feature keys (default: every feature of the project)")
      .option("--all-features", "every feature of the project (the default when no keys are given)")
      .option("--filter <expr>", "SQL WHERE filter on the feature's own rows (repeatable)", collect, [])
      .option(
        "--global-filter <expr>",
        "SQL WHERE filter applied to every feature read (repeatable)",
        collect,
        [],
      )
      .option(
        "--stale-if <expr>",
        "stored rows matching this are stale whatever their provenance (repeatable)",
        collect,
        [],
      )
      .option("--assert-in-sync", "exit 1 when any feature needs an update (for CI)")
      .option("-v, --verbose", "show up to 5 sample ids of each set (implies --progress)")
      .option(
        "--progress",
        "show the share of input records processed at least once (counts every input record: a full resolve)",
      )
      .action(wrap((ctx, keys: string[], flags: StatusFlags) => runStatus(ctx, keys, flags)));
}

async function runStatus(ctx: Context, keys: string[], flags: StatusFlags): Promise<void> {
  const format = ctx.format(PLAIN_FORMATS);
  for (const f of [flags.filter, flags.globalFilter, flags.staleIf]) parseFilters(f);
  const config = await ctx.config();
  const graph = config.graph;
  const selected = selectFeatures(
    graph,
    keys,
    flags.allFeatures,
    { required: false, unknown: flags.assertInSync ? "error" : "warn" },
    (m) => ctx.warn(m),
  );
  await ctx.withStore("r", async (store) => {
    const entries: FeatureStatusEntry[] = [];
    ctx.progress.start("status", selected.length);
    try {
      for (const [i, key] of selected.entries()) {
        ctx.progress.step(i, key.toString());
        entries.push(await featureStatus(store, graph, key, flags));
      }
    } finally {
      ctx.progress.done();
    }
    const needsUpdate = entries.some((e) => e.needs_update);
    const failed = entries.filter((e) => e.status === "error").map((e) => e.feature_key);
    // A feature whose status could not be computed is an error, whatever --assert-in-sync says.
    if (failed.length > 0 || (flags.assertInSync && needsUpdate)) ctx.exitCode = 1;
    if (format === "json") {
      ctx.json({
        project: config.project,
        project_version: graph.projectVersion(),
        store: store.name ?? null,
        features: Object.fromEntries(entries.map((e) => [e.feature_key, e])),
        needs_update: needsUpdate,
        ...(failed.length > 0 ? { failed } : {}),
      });
      return;
    }
    ctx.print(`Store: ${store.display()} · project ${config.project} · version ${graph.projectVersion()}`);
    ctx.print();
    const num = (n: number | null, root: boolean) => (root ? "-" : n === null ? "-" : String(n));
    const showProgress = Boolean(flags.progress || flags.verbose);
    ctx.print(
      renderTable(
        [
          "Status",
          "Feature",
          { header: "Materialized", align: "right" },
          { header: "Missing", align: "right" },
          { header: "Stale", align: "right" },
          { header: "Orphaned", align: "right" },
          { header: "Failed", align: "right" },
          "Info",
        ],
        entries.map((e) => [
          `${SYMBOL[e.status]} ${LABEL[e.status]}${!e.is_root_feature && e.status !== "error" && showProgress ? ` (${percent(e.progress_percentage)})` : ""}`,
          e.feature_key,
          e.store_rows ?? "-",
          num(e.missing, e.is_root_feature),
          num(e.stale, e.is_root_feature),
          num(e.orphaned, e.is_root_feature),
          num(e.failed, e.is_root_feature),
          e.error?.message.split("\n")[0] ?? "",
        ]),
      ),
    );
    if (flags.verbose)
      for (const e of entries) {
        const d = e.sample_details;
        if (!d) continue;
        for (const kind of ["missing", "stale", "orphaned"] as const)
          if (d[kind].length > 0) {
            ctx.print();
            ctx.print(`${e.feature_key}: ${kind} (first ${d[kind].length})`);
            const cols = Object.keys(d[kind][0]);
            ctx.print(
              renderTable(
                cols,
                d[kind].map((r) => cols.map((c) => cell(r[c]))),
              ),
            );
          }
      }
    ctx.print();
    const count = entries.filter((e) => e.needs_update).length;
    ctx.print(
      count === 0 && failed.length === 0
        ? `All ${plural(entries.length, "feature")} in sync.`
        : `${count} of ${plural(entries.length, "feature")} need an update${failed.length ? `, ${failed.length} failed` : ""}.`,
    );
    if (failed.length > 0)
      ctx.io.stderr.write(
        `Error: status failed for ${failed.length} of ${plural(entries.length, "feature")}: ${failed.join(", ")}\n`,
      );
  });
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return "-";
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

async function featureStatus(
  store: MetadataStore,
  graph: FeatureGraph,
  key: FeatureKey,
  flags: StatusFlags,
): Promise<FeatureStatusEntry> {
  const plan = graph.plan(key);
  const isRoot = plan.isRoot;
  const entry: FeatureStatusEntry = {
    feature_key: key.toString(),
    status: "up_to_date",
    needs_update: false,
    metadata_exists: null,
    store_rows: null,
    missing: null,
    stale: null,
    orphaned: null,
    failed: null,
    target_version: graph.featureVersion(key),
    is_root_feature: isRoot,
    progress_percentage: null,
    store_metadata: null,
  };
  try {
    const holder = await store.findStoreFor(key, true);
    if (holder) entry.store_metadata = { name: holder.name ?? null, display: holder.display() };
    const rows = holder ? await store.count(key, { filters: [...flags.filter, ...flags.globalFilter] }) : 0;
    entry.store_rows = rows;
    entry.metadata_exists = rows > 0;
    if (!isRoot) {
      const increment = await store.resolveUpdate(key, {
        targetFilters: flags.filter,
        globalFilters: flags.globalFilter,
        stalenessPredicates: flags.staleIf,
      });
      try {
        const counts = await increment.counts();
        entry.missing = counts.new;
        entry.stale = counts.stale;
        entry.orphaned = counts.orphaned;
        entry.failed = counts.failed;
        entry.needs_update = counts.new + counts.stale + counts.orphaned > 0;
        // Progress counts every input record, which an incremental resolve does not read: on request only.
        if (flags.progress || flags.verbose) entry.progress_percentage = round(await increment.progress());
        if (flags.verbose) entry.sample_details = await samples(increment, [...plan.inputIdColumns]);
      } finally {
        await increment.dispose();
      }
    }
    entry.status = !entry.metadata_exists
      ? "missing"
      : isRoot
        ? "root_feature"
        : entry.needs_update
          ? "needs_update"
          : "up_to_date";
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    entry.status = "error";
    entry.error = { code: MetaxyError.isInstance(e) ? e.code : "GENERIC_ERROR", message };
    entry.error_message = message;
  }
  return entry;
}

function round(p: number | null): number | null {
  return p === null ? null : Math.round(p * 100) / 100;
}

async function samples(increment: Increment, idColumns: string[]) {
  const take = async (kind: "new" | "stale" | "orphaned") => {
    for await (const batch of increment.batches(kind, { batchSize: 5 }))
      return batch.slice(0, 5).map((r) => {
        const out: Row = {};
        for (const c of idColumns) out[c] = r[c];
        out.metaxy_provenance = r.metaxy_provenance ?? null;
        return out;
      });
    return [];
  };
  return { missing: await take("new"), stale: await take("stale"), orphaned: await take("orphaned") };
}

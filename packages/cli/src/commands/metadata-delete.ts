import { type FeatureKey, type MetadataStore, MetaxyError, parseFilters } from "@metaxy/core";
import type { Command } from "commander";
import { type Context, PLAIN_FORMATS } from "../context.js";
import { CliError } from "../errors.js";
import type { Wrap } from "../main.js";
import { plural } from "../output/format.js";
import { renderTable } from "../output/table.js";
import { collect, selectFeatures } from "../selection.js";
import { metadataGroup } from "./metadata.js";

interface DeleteFlags {
  allFeatures?: boolean;
  filter: string[];
  soft?: boolean;
  hard?: boolean;
  yes?: boolean;
  dryRun?: boolean;
  withFeatureHistory?: boolean;
}

interface DeleteEntry {
  feature_key: string;
  rows: number;
  error?: string;
  error_code?: string;
}

export function registerMetadataDeleteCommand(program: Command, wrap: Wrap): void {
  metadataGroup(program)
    .command("delete")
    .description("Delete metadata rows: soft (tombstones, the default) or hard (physical, needs --yes)")
    .argument("[keys...]", "feature keys")
    .option("--all-features", "every feature of the project")
    .option("--filter <expr>", "only rows matching this SQL WHERE filter (repeatable)", collect, [])
    .option("--soft", "append tombstones; reads stop returning the rows (default)")
    .option("--hard", "physically delete the rows (needs --yes)")
    .option("--yes", "confirm a hard delete")
    .option("--dry-run", "only count the rows that would be deleted")
    .option("--with-feature-history", "also rows of older feature versions")
    .action(wrap((ctx, keys: string[], flags: DeleteFlags) => runDelete(ctx, keys, flags)));
}

async function runDelete(ctx: Context, keys: string[], flags: DeleteFlags): Promise<void> {
  const format = ctx.format(PLAIN_FORMATS);
  if (flags.soft && flags.hard)
    throw new CliError("CONFLICTING_FLAGS", "--soft and --hard exclude each other", {
      flags: ["--soft", "--hard"],
    });
  const hard = flags.hard === true;
  if (hard && !flags.yes && !flags.dryRun)
    throw new CliError(
      "MISSING_CONFIRMATION",
      "A hard delete removes rows for good and needs --yes",
      { flags: ["--yes"] },
      "Re-run with --yes, or with --dry-run to see what would be deleted.",
    );
  parseFilters(flags.filter); // FILTER_PARSE_ERROR before anything is opened
  const { graph } = await ctx.config();
  const selected = selectFeatures(graph, keys, flags.allFeatures, { required: true, unknown: "error" }, (m) =>
    ctx.warn(m),
  );
  const mode = hard ? "hard" : "soft";
  await ctx.withStore(flags.dryRun ? "r" : "w", async (store) => {
    const entries: DeleteEntry[] = [];
    ctx.progress.start(flags.dryRun ? "counting" : "deleting", selected.length);
    try {
      for (const [i, key] of selected.entries()) {
        ctx.progress.step(i, key.toString());
        const entry: DeleteEntry = { feature_key: key.toString(), rows: 0 };
        try {
          entry.rows = flags.dryRun
            ? await countMatching(store, key, flags, hard)
            : await store.delete(key, flags.filter, {
                soft: !hard,
                withFeatureHistory: flags.withFeatureHistory,
              });
        } catch (e) {
          entry.error = e instanceof Error ? e.message : String(e);
          if (MetaxyError.isInstance(e)) entry.error_code = e.code;
        }
        entries.push(entry);
      }
    } finally {
      ctx.progress.done();
    }
    const failed = entries.filter((e) => e.error);
    if (failed.length > 0) ctx.exitCode = 1;
    const total = entries.reduce((a, e) => a + e.rows, 0);
    if (format === "json") {
      ctx.json({
        store: store.name ?? null,
        mode,
        dry_run: flags.dryRun === true,
        with_feature_history: flags.withFeatureHistory === true,
        filters: flags.filter,
        features: entries,
        total_rows: total,
        failed: failed.length,
      });
      return;
    }
    ctx.print(`${flags.dryRun ? "Dry run: " : ""}${mode} delete from ${store.display()}`);
    if (flags.filter.length > 0) ctx.print(`Filters: ${flags.filter.join(" AND ")}`);
    ctx.print();
    const header = { header: flags.dryRun ? "Rows to delete" : "Rows deleted", align: "right" as const };
    ctx.print(
      failed.length > 0
        ? renderTable(
            ["Feature", header, "Error"],
            entries.map((e) => [e.feature_key, e.error ? "-" : e.rows, e.error ?? ""]),
          )
        : renderTable(
            ["Feature", header],
            entries.map((e) => [e.feature_key, e.rows]),
          ),
    );
    ctx.print();
    if (flags.dryRun)
      ctx.print(`Dry run: ${plural(total, "row")} would be deleted (${mode} delete); nothing was changed.`);
    else if (failed.length > 0)
      ctx.print(
        `✗ Deletion failed for ${plural(failed.length, "feature")}; ${plural(total, "row")} deleted (${mode} delete)`,
      );
    else
      ctx.print(
        `✓ Deletion complete (${mode} delete): ${plural(total, "row")} in ${plural(entries.length, "feature")}`,
      );
  });
}

/** The rows `delete` would touch: latest live rows (soft) or every physical row of the version (hard). */
async function countMatching(
  store: MetadataStore,
  key: FeatureKey,
  flags: DeleteFlags,
  hard: boolean,
): Promise<number> {
  try {
    return await store.count(key, {
      filters: flags.filter,
      withFeatureHistory: flags.withFeatureHistory,
      ...(hard ? { withSampleHistory: true, includeSoftDeleted: true, allowFallback: false } : {}),
    });
  } catch (e) {
    if (MetaxyError.isInstance(e) && e.code === "FEATURE_NOT_FOUND") return 0;
    throw e;
  }
}

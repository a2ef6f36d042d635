import {
  type FeatureKey,
  type MetadataStore,
  MetaxyError,
  columnTypesOfSchema,
  parseFilters,
} from "@metaxy/core";
import { tableSchemaOf } from "@metaxy/core/backend";
import { type ResolvedMetaxyConfig, openStore } from "@metaxy/core/node";
import type { Command } from "commander";
import { type Context, PLAIN_FORMATS } from "../context.js";
import { CliError } from "../errors.js";
import type { Wrap } from "../main.js";
import { plural } from "../output/format.js";
import { renderTable } from "../output/table.js";
import { collect, selectFeatures } from "../selection.js";
import { metadataGroup } from "./metadata.js";

interface CopyFlags {
  allFeatures?: boolean;
  from: string;
  to: string;
  filter: string[];
  featureHistory: boolean;
  sampleHistory: boolean;
}

interface CopyEntry {
  feature_key: string;
  rows: number;
  skipped?: string;
  error?: string;
}

export function registerMetadataCopyCommand(program: Command, wrap: Wrap): void {
  metadataGroup(program)
    .command("copy")
    .description(
      "Copy metadata rows between stores, exactly as stored: every feature version and every row\n" +
        "of each sample (soft deletes included), system columns and timestamps preserved",
    )
    .argument("[keys...]", "feature keys")
    .option("--all-features", "every feature of the project")
    .requiredOption("--from <store>", "source store name")
    .requiredOption("--to <store>", "destination store name")
    .option("--filter <expr>", "only rows matching this SQL WHERE filter (repeatable)", collect, [])
    .option("--no-feature-history", "only rows of the current feature versions")
    .option("--no-sample-history", "only the latest live row of each sample")
    .action(wrap((ctx, keys: string[], flags: CopyFlags) => runCopy(ctx, keys, flags)));
}

async function runCopy(ctx: Context, keys: string[], flags: CopyFlags): Promise<void> {
  const format = ctx.format(PLAIN_FORMATS);
  if (flags.from === flags.to)
    throw new CliError("CONFLICTING_FLAGS", `--from and --to name the same store "${flags.from}"`, {
      flags: ["--from", "--to"],
    });
  parseFilters(flags.filter);
  const config = await ctx.config();
  const selected = selectFeatures(
    config.graph,
    keys,
    flags.allFeatures,
    { required: true, unknown: "error" },
    (m) => ctx.warn(m),
  );
  const source = await openStore(config, flags.from, { mode: "r" });
  try {
    const destination = await openStore(config, flags.to, { mode: "w" });
    try {
      const entries: CopyEntry[] = [];
      ctx.progress.start("copying", selected.length);
      try {
        for (const [i, key] of selected.entries()) {
          ctx.progress.step(i, key.toString());
          entries.push(
            await copyFeature(config, source, destination, key, flags, (n) =>
              ctx.progress.step(i, key.toString(), `${n} rows`),
            ),
          );
        }
      } finally {
        ctx.progress.done();
      }
      for (const e of entries) if (e.skipped) ctx.warn(`Skipped ${e.feature_key}: ${e.skipped}`);
      const failed = entries.filter((e) => e.error);
      if (failed.length > 0) ctx.exitCode = 1;
      const copied = entries.filter((e) => !e.skipped && !e.error);
      const rows = entries.reduce((a, e) => a + e.rows, 0);
      if (format === "json") {
        ctx.json({
          from: flags.from,
          to: flags.to,
          with_feature_history: flags.featureHistory,
          with_sample_history: flags.sampleHistory,
          filters: flags.filter,
          features: entries,
          features_copied: copied.length,
          rows_copied: rows,
          failed: failed.length,
        });
        return;
      }
      ctx.print(`Copy ${source.display()} → ${destination.display()}`);
      ctx.print();
      ctx.print(
        renderTable(
          ["Feature", { header: "Rows", align: "right" }, "Note"],
          entries.map((e) => [e.feature_key, e.rows, e.error ? `error: ${e.error}` : (e.skipped ?? "")]),
        ),
      );
      ctx.print();
      ctx.print(
        failed.length > 0
          ? `✗ Copy failed for ${plural(failed.length, "feature")}; ${plural(rows, "row")} copied`
          : `✓ Copy complete: ${plural(copied.length, "feature")}, ${plural(rows, "row")} copied`,
      );
    } finally {
      await destination.close();
    }
  } finally {
    await source.close();
  }
}

/** Appends the source's stored rows as they are (system columns included) to the destination. */
async function copyFeature(
  config: ResolvedMetaxyConfig,
  source: MetadataStore,
  destination: MetadataStore,
  key: FeatureKey,
  flags: CopyFlags,
  onRows: (n: number) => void,
): Promise<CopyEntry> {
  const entry: CopyEntry = { feature_key: key.toString(), rows: 0 };
  if (!(await source.hasFeature(key, false))) {
    entry.skipped = `not found in store ${flags.from}`;
    return entry;
  }
  const def = config.graph.get(key);
  const declared = def.schema ? columnTypesOfSchema(def.schema) : null;
  const table = key.tableName;
  const autoCreate = config.stores[flags.to]?.autoCreateTables ?? config.autoCreateTables ?? true;
  if (!autoCreate && !(await destination.backend.tableExists(table))) {
    entry.error = `Table "${table}" does not exist in store ${flags.to} and autoCreateTables is off`;
    return entry;
  }
  try {
    for await (const batch of source.readBatches(key, {
      allowFallback: false,
      withFeatureHistory: flags.featureHistory,
      withSampleHistory: flags.sampleHistory,
      includeSoftDeleted: flags.sampleHistory,
      filters: flags.filter,
    })) {
      if (batch.length === 0) continue;
      const schema = tableSchemaOf(def, declared, batch);
      const [n] = await destination.backend.write([{ table, feature: key.toString(), schema, rows: batch }]);
      entry.rows += n;
      onRows(entry.rows);
    }
    if (entry.rows === 0) entry.skipped = "no rows to copy";
  } catch (e) {
    entry.error = e instanceof Error ? e.message : String(e);
    if (MetaxyError.isInstance(e)) (entry as CopyEntry & { error_code?: string }).error_code = e.code;
  }
  return entry;
}

import type { Command } from "commander";
import { PLAIN_FORMATS } from "../context.js";
import type { Wrap } from "../main.js";
import { formatTimestamp, toIso } from "../output/format.js";
import { renderTable } from "../output/table.js";
import { parseNonNegativeInt } from "../selection.js";

export function registerHistoryCommand(program: Command, wrap: Wrap): void {
  program
    .command("history")
    .description("Graph snapshots pushed for the project, newest first")
    .option("--limit <n>", "show at most n snapshots", parseNonNegativeInt("--limit"))
    .action(
      wrap(async (ctx, options: { limit?: number }) => {
        const format = ctx.format(PLAIN_FORMATS);
        const config = await ctx.config();
        await ctx.withStore("r", async (store) => {
          const all = await store.graphSnapshots(config.project);
          const shown = options.limit === undefined ? all : all.slice(0, options.limit);
          const current = config.graph.projectVersion();
          if (format === "json") {
            ctx.json({
              project: config.project,
              current_project_version: current,
              total: all.length,
              snapshots: shown.map((s) => ({
                project_version: s.projectVersion,
                recorded_at: toIso(s.recordedAt),
                feature_count: s.featureCount,
                is_current: s.projectVersion === current,
              })),
            });
            return;
          }
          if (all.length === 0) {
            ctx.print("No graph snapshots recorded yet");
            return;
          }
          ctx.print(`Graph Snapshot History (project ${config.project}, store ${store.display()})`);
          ctx.print();
          ctx.print(
            renderTable(
              ["Project version", "Recorded At (UTC)", { header: "Feature Count", align: "right" }, "Note"],
              shown.map((s) => [
                s.projectVersion,
                formatTimestamp(s.recordedAt),
                s.featureCount,
                s.projectVersion === current ? "← current" : "",
              ]),
            ),
          );
          ctx.print();
          ctx.print(`Total snapshots: ${all.length}`);
        });
      }),
    );
}

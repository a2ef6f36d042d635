import type { Command } from "commander";
import { PLAIN_FORMATS } from "../context.js";
import { CliError } from "../errors.js";
import type { Wrap } from "../main.js";
import { collect } from "../selection.js";

export function registerPushCommand(program: Command, wrap: Wrap): void {
  program
    .command("push")
    .description("Record the current feature graph in the store (prints the project version on stdout)")
    .option("-t, --tag <key=value>", "tag the snapshot (repeatable; `metaxy` is reserved)", collect, [])
    .action(
      wrap(async (ctx, options: { tag: string[] }) => {
        const format = ctx.format(PLAIN_FORMATS);
        const tags: Record<string, string> = {};
        for (const t of options.tag) {
          const i = t.indexOf("=");
          if (i <= 0)
            throw new CliError("INVALID_ARGUMENT", `--tag must be KEY=VALUE, got "${t}"`, {
              option: "--tag",
              value: t,
            });
          tags[t.slice(0, i)] = t.slice(i + 1);
        }
        if ("metaxy" in tags)
          throw new CliError("INVALID_ARGUMENT", 'Tag "metaxy" is reserved', {
            option: "--tag",
            tag: "metaxy",
          });
        const config = await ctx.config();
        await ctx.withStore("w", async (store) => {
          const result = await store.pushGraphSnapshot({ project: config.project, tags });
          const status = !result.alreadyPushed
            ? "recorded"
            : result.updatedFeatures.length > 0
              ? "updated"
              : "unchanged";
          if (format === "json") {
            ctx.json({
              project: config.project,
              project_version: result.projectVersion,
              status,
              already_pushed: result.alreadyPushed,
              updated_features: [...result.updatedFeatures],
              store: store.name ?? null,
              store_display: store.display(),
              tags,
            });
            return;
          }
          ctx.info(`Recorded at: ${store.display()}`);
          if (status === "recorded") ctx.info("✓ Recorded feature graph");
          else if (status === "updated") {
            ctx.info("ℹ Updated feature information (no topological changes)");
            for (const f of result.updatedFeatures) ctx.info(`  - ${f}`);
          } else ctx.info("✓ Snapshot already recorded (no changes)");
          ctx.print(result.projectVersion);
        });
      }),
    );
}

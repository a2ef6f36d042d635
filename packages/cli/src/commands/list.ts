import type { Command } from "commander";
import { PLAIN_FORMATS } from "../context.js";
import { featureInfo } from "../feature-info.js";
import type { Wrap } from "../main.js";
import { plural } from "../output/format.js";
import { renderTable } from "../output/table.js";

export function registerListCommands(program: Command, wrap: Wrap): void {
  const list = program.command("list").description("List features or stores");

  list
    .command("features")
    .alias("feature")
    .description("Features of the current project (topological order)")
    .option("-v, --verbose", "also list every feature's fields")
    .action(
      wrap(async (ctx, options: { verbose?: boolean }) => {
        const format = ctx.format(PLAIN_FORMATS);
        const config = await ctx.config();
        const graph = config.graph;
        const features = graph
          .topologicalSort(graph.listFeatures().map((f) => f.key))
          .map((k) => graph.get(k));
        const infos = features.map((d) => featureInfo(graph, d));
        if (format === "json") {
          ctx.json({ project: config.project, feature_count: infos.length, features: infos });
          return;
        }
        if (infos.length === 0) {
          ctx.print(`No features in project ${config.project}.`);
          return;
        }
        ctx.print(`Project: ${config.project}`);
        ctx.print();
        ctx.print(
          renderTable(
            ["Feature", "Version", "Source", "Dependencies"],
            infos.map((f) => [f.key, f.version, f.source ?? "-", f.deps]),
          ),
        );
        if (options.verbose)
          for (const f of infos) {
            ctx.print();
            ctx.print(`${f.key} fields:`);
            ctx.print(
              renderTable(
                ["Field", "Code Version", "Version", "Dependencies"],
                f.fields.map((x) => [
                  x.key,
                  x.code_version,
                  x.version.length > 12 ? `${x.version.slice(0, 12)}...` : x.version,
                  x.deps,
                ]),
              ),
            );
          }
        const roots = infos.filter((f) => f.is_root).length;
        const external = infos.filter((f) => f.is_external).length;
        ctx.print();
        ctx.print(
          `Total: ${plural(infos.length, "feature")} (${roots} root, ${infos.length - roots} dependent${external ? `, ${external} external` : ""})`,
        );
      }),
    );

  list
    .command("stores")
    .alias("store")
    .description("Configured metadata stores (default first)")
    .action(
      wrap(async (ctx) => {
        const format = ctx.format(PLAIN_FORMATS);
        const config = await ctx.config();
        const names = Object.keys(config.stores).sort((a, b) =>
          a === config.store ? -1 : b === config.store ? 1 : a < b ? -1 : a > b ? 1 : 0,
        );
        const stores = await Promise.all(
          names.map(async (name) => {
            const sc = config.stores[name];
            let info: string;
            try {
              info = (await sc.backend()).display();
            } catch (e) {
              info = `(backend error: ${e instanceof Error ? e.message : String(e)})`;
            }
            return {
              name,
              is_default: name === config.store,
              info,
              description: sc.description ?? null,
              fallbacks: [...sc.fallbackStores],
              hash_algorithm: sc.hashAlgorithm ?? config.hashAlgorithm ?? null,
            };
          }),
        );
        if (stores.length > 0 && !(config.store in config.stores))
          ctx.warn(`The default store "${config.store}" is not configured`);
        if (format === "json") {
          ctx.json({ default_store: config.store, store_count: stores.length, stores });
          return;
        }
        if (stores.length === 0) {
          ctx.print("No stores configured.");
          return;
        }
        ctx.print(
          renderTable(
            ["Store", "Default", "Backend", "Fallbacks"],
            stores.map((s) => [s.name, s.is_default ? "yes" : "", s.info, s.fallbacks]),
          ),
        );
      }),
    );
}

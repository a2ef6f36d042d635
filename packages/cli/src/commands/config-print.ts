import type { Command } from "commander";
import { PLAIN_FORMATS } from "../context.js";
import type { Wrap } from "../main.js";

export function registerConfigCommands(program: Command, wrap: Wrap): void {
  const config = program.command("config").description("Inspect the effective configuration");
  config
    .command("print")
    .description("The effective config: file values with METAXY_* variables and flags applied")
    .action(
      wrap(async (ctx) => {
        const format = ctx.format(PLAIN_FORMATS);
        const c = await ctx.config();
        const data = {
          config_file: c.configFile,
          project: c.project,
          store: c.store,
          hash_algorithm: c.hashAlgorithm ?? null,
          hash_truncation_length: c.hashTruncationLength,
          auto_create_tables: c.autoCreateTables ?? null,
          feature_count: c.graph.listFeatures().length,
          project_version: c.graph.projectVersion(),
          stores: Object.fromEntries(
            Object.values(c.stores).map((s) => [
              s.name,
              {
                fallback_stores: [...s.fallbackStores],
                hash_algorithm: s.hashAlgorithm ?? null,
                auto_create_tables: s.autoCreateTables ?? null,
                description: s.description ?? null,
              },
            ]),
          ),
        };
        if (format === "json") {
          ctx.json(data);
          return;
        }
        const { stores, ...top } = data;
        for (const [k, v] of Object.entries(top)) ctx.print(`${k} = ${v === null ? "(default)" : String(v)}`);
        for (const [name, s] of Object.entries(stores)) {
          ctx.print();
          ctx.print(`[stores.${name}]`);
          for (const [k, v] of Object.entries(s))
            if (v !== null && !(Array.isArray(v) && v.length === 0))
              ctx.print(`${k} = ${Array.isArray(v) ? v.join(", ") : String(v)}`);
        }
      }),
    );
}

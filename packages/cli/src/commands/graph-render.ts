import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { FeatureGraph } from "@metaxy/core";
import type { Command } from "commander";
import { CliError } from "../errors.js";
import type { Wrap } from "../main.js";
import {
  DEFAULT_RENDER_OPTIONS,
  type RenderOptions,
  graphJson,
  renderGraphviz,
  renderMermaid,
  renderTerminal,
  selectSubgraph,
} from "../output/graph-render.js";
import { toJson } from "../output/json.js";
import { parseFeatureKey, parseNonNegativeInt } from "../selection.js";
import { resolveGraphRef } from "../snapshot-ref.js";

const RENDER_FORMATS = ["terminal", "mermaid", "graphviz", "json", "plain"] as const;

interface RenderFlags {
  output?: string;
  snapshot?: string;
  minimal?: boolean;
  verbose?: boolean;
  showFields?: boolean;
  showFeatureVersions?: boolean;
  showFieldVersions?: boolean;
  showCodeVersions?: boolean;
  showProjectVersion?: boolean;
  hashLength?: number;
  direction?: string;
  feature?: string;
  up?: number;
  down?: number;
  title?: string;
}

export function registerGraphCommands(program: Command, wrap: Wrap): void {
  const graph = program.command("graph").description("Render the feature graph");
  graph
    .command("render")
    .description("Render the graph: terminal tree, Mermaid flowchart, Graphviz dot, or JSON (--format)")
    .option("-o, --output <file>", "write to a file instead of stdout")
    .option("--snapshot <version>", "render a pushed snapshot (a project version, or `latest`) from --store")
    .option("--minimal", "keys only: no versions, no fields")
    .option("--verbose", "everything: fields, feature, field and code versions")
    .option("--show-fields", "draw fields and field-level dependencies")
    .option("--show-feature-versions", "show feature versions (default)")
    .option("--no-show-feature-versions", "hide feature versions")
    .option("--show-field-versions", "show field versions with --show-fields (default)")
    .option("--no-show-field-versions", "hide field versions")
    .option("--show-code-versions", "show code versions")
    .option("--show-project-version", "show the project version in the title (default)")
    .option("--no-show-project-version", "hide the project version")
    .option(
      "--hash-length <n>",
      "characters of each hash (0 = whole; default 8)",
      parseNonNegativeInt("--hash-length"),
    )
    .option("--direction <dir>", "TB (top to bottom, default) or LR (left to right)")
    .option("--feature <key>", "only this feature and its neighbourhood (see --up / --down)")
    .option(
      "--up <n>",
      "levels of dependencies shown around --feature (default all)",
      parseNonNegativeInt("--up"),
    )
    .option(
      "--down <n>",
      "levels of dependents shown around --feature (default all)",
      parseNonNegativeInt("--down"),
    )
    .option("--title <text>", "diagram title")
    .action(
      wrap(async (ctx, flags: RenderFlags) => {
        const chosen = ctx.format(RENDER_FORMATS);
        const format = chosen === "plain" ? "terminal" : chosen;
        if (flags.minimal && flags.verbose)
          throw new CliError("CONFLICTING_FLAGS", "--minimal and --verbose exclude each other", {
            flags: ["--minimal", "--verbose"],
          });
        if ((flags.up !== undefined || flags.down !== undefined) && !flags.feature)
          throw new CliError("MISSING_REQUIRED_FLAG", "--up and --down need --feature", {
            flags: ["--feature"],
          });
        const direction = (flags.direction ?? "TB").toUpperCase();
        if (direction !== "TB" && direction !== "LR")
          throw new CliError("INVALID_ARGUMENT", `--direction must be TB or LR, got "${flags.direction}"`, {
            option: "--direction",
            value: flags.direction,
          });
        const options: RenderOptions = {
          ...DEFAULT_RENDER_OPTIONS,
          showFields: flags.showFields ?? false,
          showFeatureVersions: flags.showFeatureVersions ?? true,
          showFieldVersions: flags.showFieldVersions ?? true,
          showCodeVersions: flags.showCodeVersions ?? false,
          showProjectVersion: flags.showProjectVersion ?? true,
          hashLength: flags.hashLength ?? 8,
          direction,
          title: flags.title,
        };
        if (flags.minimal)
          Object.assign(options, {
            showFields: false,
            showFeatureVersions: false,
            showFieldVersions: false,
            showCodeVersions: false,
            showProjectVersion: false,
          });
        if (flags.verbose)
          Object.assign(options, {
            showFields: true,
            showFeatureVersions: true,
            showFieldVersions: true,
            showCodeVersions: true,
            showProjectVersion: true,
          });

        const config = await ctx.config();
        let graph: FeatureGraph = config.graph;
        if (flags.snapshot)
          graph = await ctx.withStore(
            "r",
            async (store) => (await resolveGraphRef(flags.snapshot!, config, store)).graph,
          );
        const focus = flags.feature ? parseFeatureKey(flags.feature) : undefined;
        if (focus && !graph.has(focus))
          throw new CliError(
            "FEATURES_NOT_FOUND",
            `Feature(s) not found: ${focus}`,
            { keys: [focus.toString()] },
            "`metaxy list features` lists the features.",
          );
        const keys = selectSubgraph(graph, focus, flags.up, flags.down);
        if (keys.length === 0) ctx.warn(`Project "${graph.project}" has no features to render`);
        const text =
          format === "mermaid"
            ? renderMermaid(graph, keys, options)
            : format === "graphviz"
              ? renderGraphviz(graph, keys, options)
              : format === "json"
                ? `${toJson({ ...graphJson(graph, keys, options), ...(ctx.warnings.length ? { warnings: ctx.warnings } : {}) })}\n`
                : renderTerminal(graph, keys, options);
        if (flags.output) {
          const file = resolve(ctx.io.cwd, flags.output);
          writeFileSync(file, text);
          ctx.io.stderr.write(`Wrote ${format} graph to ${file}\n`);
        } else ctx.io.stdout.write(text);
      }),
    );
}

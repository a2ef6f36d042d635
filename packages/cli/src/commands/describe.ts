import type { FeatureGraph, FeatureKey } from "@metaxy/core";
import type { Command } from "commander";
import { PLAIN_FORMATS } from "../context.js";
import { type FeatureDescription, featureDescription } from "../feature-info.js";
import type { Wrap } from "../main.js";
import { renderTable } from "../output/table.js";
import { selectFeatures } from "../selection.js";

export function registerDescribeCommands(program: Command, wrap: Wrap): void {
  const describe = program.command("describe").description("Describe features or the feature graph");

  describe
    .command("feature")
    .alias("features")
    .description("Everything about one or more features: versions, fields, dependencies")
    .argument("[keys...]", "feature keys (a/b or a__b)")
    .option("--all-features", "describe every feature of the project")
    .action(
      wrap(async (ctx, keys: string[], options: { allFeatures?: boolean }) => {
        const format = ctx.format(PLAIN_FORMATS);
        const { graph } = await ctx.config();
        const selected = selectFeatures(
          graph,
          keys,
          options.allFeatures,
          { required: true, unknown: "error" },
          (m) => ctx.warn(m),
        );
        const descriptions = selected.map((k) => featureDescription(graph, graph.get(k)));
        if (format === "json") {
          if (descriptions.length === 1 && keys.length === 1) ctx.json(descriptions[0]);
          else ctx.json({ feature_count: descriptions.length, features: descriptions });
          return;
        }
        descriptions.forEach((d, i) => {
          if (i > 0) ctx.print();
          printDescription(ctx.print.bind(ctx), d);
        });
      }),
    );

  describe
    .command("graph")
    .description("Metrics of the feature graph: size, depth, roots and leaves")
    .action(
      wrap(async (ctx) => {
        const format = ctx.format(PLAIN_FORMATS);
        const config = await ctx.config();
        const metrics = graphMetrics(config.graph);
        if (format === "json") {
          ctx.json({ project: config.project, ...metrics });
          return;
        }
        ctx.print(`Graph: project ${config.project}, version ${metrics.project_version}`);
        ctx.print();
        ctx.print(
          renderTable(
            ["Metric", { header: "Value", align: "right" }],
            [
              ["Total Features", metrics.total_features],
              ["Graph Depth", metrics.graph_depth],
              ["Root Features", metrics.root_features.length],
              ["Leaf Features", metrics.leaf_features.length],
            ],
          ),
        );
        ctx.print();
        ctx.print(`Root features: ${metrics.root_features.join(", ") || "-"}`);
        ctx.print(`Leaf features: ${metrics.leaf_features.join(", ") || "-"}`);
      }),
    );
}

function printDescription(print: (s?: string) => void, d: FeatureDescription): void {
  print(`Feature: ${d.key}`);
  if (d.description) print(`  ${d.description}`);
  const rows: [string, string][] = [
    ["Project", d.project],
    ["Version", d.version],
    ["Code version", d.code_version],
    ["Definition version", d.definition_version],
    ["Root", d.is_root ? "yes" : "no"],
    ["External", d.is_external ? "yes" : "no"],
    ["Source", d.source ?? "-"],
    ["ID columns", d.id_columns.join(", ")],
  ];
  if (!d.is_root) rows.push(["Input ID columns", d.input_id_columns.join(", ") || "-"]);
  if (d.columns.length > 0) rows.push(["Columns", d.columns.join(", ")]);
  rows.push(["Dependents", d.dependents.join(", ") || "-"]);
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) print(`  ${`${k}:`.padEnd(width + 1)} ${v}`);
  print();
  print("  Fields:");
  print(
    indent(
      renderTable(
        ["Field", "Code Version", "Version", "Depends on"],
        d.fields.map((f) => [f.key, f.code_version, f.version, f.deps]),
      ),
      4,
    ),
  );
  if (d.dependencies.length > 0) {
    print();
    print("  Dependencies:");
    print(
      indent(
        renderTable(
          ["Feature", "Lineage", "Select", "Rename", "Filters", "Optional"],
          d.dependencies.map((x) => [
            x.feature,
            lineageText(x.lineage),
            x.select,
            x.rename
              ? Object.entries(x.rename)
                  .map(([a, b]) => `${a}→${b}`)
                  .join(", ")
              : null,
            x.filters,
            x.optional ? "yes" : "no",
          ]),
        ),
        4,
      ),
    );
  }
  if (Object.keys(d.metadata).length > 0) {
    print();
    print(`  Metadata: ${JSON.stringify(d.metadata)}`);
  }
}

function lineageText(l: unknown): string {
  const r = l as { type: string; on?: string[] | null };
  if (r.type === "1:1") return "identity";
  if (r.type === "N:1") return `aggregation${r.on ? ` on ${r.on.join(", ")}` : ""}`;
  if (r.type === "1:N") return `expansion on ${(r.on ?? []).join(", ")}`;
  return String(r.type);
}

function indent(text: string, n: number): string {
  return text
    .split("\n")
    .map((l) => " ".repeat(n) + l)
    .join("\n");
}

export function graphMetrics(graph: FeatureGraph) {
  const keys = graph.topologicalSort(graph.listFeatures().map((f) => f.key));
  const inProject = new Set(keys.map(String));
  const depth = new Map<string, number>();
  for (const k of keys) {
    const ups = graph.dependenciesOf(k).filter((d) => inProject.has(d.toString()));
    depth.set(k.toString(), 1 + Math.max(0, ...ups.map((u) => depth.get(u.toString()) ?? 0)));
  }
  const hasDependents = new Set<string>();
  for (const k of keys) for (const d of graph.dependenciesOf(k)) hasDependents.add(d.toString());
  const roots = keys.filter((k) => graph.dependenciesOf(k).length === 0).map(String);
  const leaves = keys.filter((k: FeatureKey) => !hasDependents.has(k.toString())).map(String);
  return {
    project_version: graph.projectVersion(),
    total_features: keys.length,
    graph_depth: Math.max(0, ...depth.values()),
    root_features: roots,
    leaf_features: leaves,
  };
}

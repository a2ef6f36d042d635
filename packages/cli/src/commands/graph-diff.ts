import { type FeatureGraph, compareStrings } from "@metaxy/core";
import type { Command } from "commander";
import { PLAIN_FORMATS } from "../context.js";
import type { Wrap } from "../main.js";
import { plural } from "../output/format.js";
import { type ResolvedGraphRef, resolveGraphRef } from "../snapshot-ref.js";

export interface FieldChange {
  key: string;
  change: "added" | "removed" | "changed";
  old_version: string | null;
  new_version: string | null;
  old_code_version: string | null;
  new_code_version: string | null;
}

export interface FeatureChange {
  key: string;
  old_version: string;
  new_version: string;
  old_definition_version: string;
  new_definition_version: string;
  fields: FieldChange[];
  /** Upstream keys added / removed from the feature's dependencies. */
  deps_added: string[];
  deps_removed: string[];
}

export interface GraphDiff {
  added: { key: string; version: string }[];
  removed: { key: string; version: string }[];
  changed: FeatureChange[];
  unchanged_count: number;
}

/**
 * Features added (only in `to`), removed (only in `from`) and changed (definition version
 * differs); per changed feature, fields added / removed / changed by field version (SPEC §6).
 */
export function diffGraphs(from: FeatureGraph, to: FeatureGraph): GraphDiff {
  const fromKeys = new Map(from.listFeatures().map((f) => [f.key.toString(), f]));
  const toKeys = new Map(to.listFeatures().map((f) => [f.key.toString(), f]));
  const out: GraphDiff = { added: [], removed: [], changed: [], unchanged_count: 0 };
  for (const key of [...toKeys.keys()].sort(compareStrings))
    if (!fromKeys.has(key)) out.added.push({ key, version: to.featureVersion(key) });
  for (const key of [...fromKeys.keys()].sort(compareStrings))
    if (!toKeys.has(key)) out.removed.push({ key, version: from.featureVersion(key) });
  for (const key of [...toKeys.keys()].sort(compareStrings)) {
    const before = fromKeys.get(key);
    if (!before) continue;
    const after = toKeys.get(key)!;
    const oldDef = from.definitionVersion(key);
    const newDef = to.definitionVersion(key);
    const oldVersion = from.featureVersion(key);
    const newVersion = to.featureVersion(key);
    if (oldDef === newDef && oldVersion === newVersion) {
      out.unchanged_count++;
      continue;
    }
    const oldFields = new Map(before.spec.fields.map((f) => [f.key.toString(), f]));
    const newFields = new Map(after.spec.fields.map((f) => [f.key.toString(), f]));
    const fields: FieldChange[] = [];
    for (const fk of [...new Set([...oldFields.keys(), ...newFields.keys()])].sort(compareStrings)) {
      const o = oldFields.get(fk);
      const n = newFields.get(fk);
      const ov = o ? from.fieldVersion(key, fk) : null;
      const nv = n ? to.fieldVersion(key, fk) : null;
      if (ov === nv) continue;
      fields.push({
        key: fk,
        change: !o ? "added" : !n ? "removed" : "changed",
        old_version: ov,
        new_version: nv,
        old_code_version: o?.codeVersion ?? null,
        new_code_version: n?.codeVersion ?? null,
      });
    }
    const oldDeps = new Set(before.spec.deps.map((d) => d.feature.toString()));
    const newDeps = new Set(after.spec.deps.map((d) => d.feature.toString()));
    out.changed.push({
      key,
      old_version: oldVersion,
      new_version: newVersion,
      old_definition_version: oldDef,
      new_definition_version: newDef,
      fields,
      deps_added: [...newDeps].filter((d) => !oldDeps.has(d)).sort(compareStrings),
      deps_removed: [...oldDeps].filter((d) => !newDeps.has(d)).sort(compareStrings),
    });
  }
  return out;
}

export function registerGraphDiffCommand(program: Command, wrap: Wrap): void {
  program
    .command("graph-diff")
    .description("Compare two graphs: `latest` (newest pushed), `current` (code) or a project version")
    .argument("<from>", "latest | current | a project version")
    .argument("[to]", "latest | current | a project version", "current")
    .action(
      wrap(async (ctx, fromRef: string, toRef: string) => {
        const format = ctx.format(PLAIN_FORMATS);
        const config = await ctx.config();
        const needsStore = fromRef !== "current" || toRef !== "current";
        const load = async (store: Parameters<typeof resolveGraphRef>[2]) =>
          [
            await resolveGraphRef(fromRef, config, store),
            await resolveGraphRef(toRef, config, store),
          ] as const;
        const [from, to] = needsStore ? await ctx.withStore("r", load) : await load(null);
        const diff = diffGraphs(from.graph, to.graph);
        const hasChanges = diff.added.length + diff.removed.length + diff.changed.length > 0;
        const side = (r: ResolvedGraphRef) => ({ ref: r.ref, project_version: r.project_version });
        if (format === "json") {
          ctx.json({
            project: config.project,
            from: side(from),
            to: side(to),
            has_changes: hasChanges,
            ...diff,
          });
          return;
        }
        const name = (r: ResolvedGraphRef) =>
          r.ref === r.project_version ? r.ref : `${r.project_version} (${r.ref})`;
        ctx.print(`Graph diff for project ${config.project}: ${name(from)} → ${name(to)}`);
        if (!hasChanges) {
          ctx.print("No changes.");
          return;
        }
        ctx.print();
        for (const a of diff.added) ctx.print(`+ ${a.key}  (${a.version})`);
        for (const r of diff.removed) ctx.print(`- ${r.key}  (${r.version})`);
        for (const c of diff.changed) {
          const versions =
            c.old_version === c.new_version
              ? `definition ${c.old_definition_version} → ${c.new_definition_version}`
              : `${c.old_version} → ${c.new_version}`;
          ctx.print(`~ ${c.key}  (${versions})`);
          for (const d of c.deps_added) ctx.print(`    + depends on ${d}`);
          for (const d of c.deps_removed) ctx.print(`    - no longer depends on ${d}`);
          for (const f of c.fields) {
            const mark = f.change === "added" ? "+" : f.change === "removed" ? "-" : "~";
            const code =
              f.change === "changed" && f.old_code_version !== f.new_code_version
                ? `, code version ${f.old_code_version} → ${f.new_code_version}`
                : "";
            const v =
              f.change === "added"
                ? f.new_version
                : f.change === "removed"
                  ? f.old_version
                  : `${f.old_version} → ${f.new_version}`;
            ctx.print(`    ${mark} ${f.key}  (${v}${code})`);
          }
        }
        ctx.print();
        ctx.print(
          `${plural(diff.added.length, "feature")} added, ${diff.removed.length} removed, ${diff.changed.length} changed, ${diff.unchanged_count} unchanged`,
        );
      }),
    );
}

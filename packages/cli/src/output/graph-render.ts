import { type FeatureGraph, type FeatureKey, compareStrings } from "@metaxy/core";
import { shortHash } from "./format.js";

export interface RenderOptions {
  /** Draw fields and field-level edges. */
  showFields: boolean;
  showFeatureVersions: boolean;
  showFieldVersions: boolean;
  showCodeVersions: boolean;
  showProjectVersion: boolean;
  /** Characters of each hash shown; 0 = whole. */
  hashLength: number;
  direction: "TB" | "LR";
  /** `null`: no title; `undefined`: the default title. */
  title?: string | null;
}

export const DEFAULT_RENDER_OPTIONS: RenderOptions = {
  showFields: false,
  showFeatureVersions: true,
  showFieldVersions: true,
  showCodeVersions: false,
  showProjectVersion: true,
  hashLength: 8,
  direction: "TB",
};

/**
 * Features within `up` levels upstream and `down` levels downstream of `focus` (all when no
 * focus), upstream-first.
 */
export function selectSubgraph(
  graph: FeatureGraph,
  focus?: FeatureKey,
  up = Number.POSITIVE_INFINITY,
  down = Number.POSITIVE_INFINITY,
): FeatureKey[] {
  const all = graph.listFeatures().map((f) => f.key);
  if (!focus) return graph.topologicalSort(all);
  const dependents = new Map<string, FeatureKey[]>();
  for (const f of graph.features)
    for (const d of f.spec.deps) {
      const list = dependents.get(d.feature.toString()) ?? [];
      list.push(f.key);
      dependents.set(d.feature.toString(), list);
    }
  const picked = new Map<string, FeatureKey>([[focus.toString(), focus]]);
  const walk = (next: (k: FeatureKey) => FeatureKey[], levels: number) => {
    let frontier = [focus];
    for (let level = 0; level < levels && frontier.length > 0; level++) {
      const following: FeatureKey[] = [];
      for (const k of frontier)
        for (const n of next(k))
          if (graph.has(n) && !picked.has(n.toString())) {
            picked.set(n.toString(), n);
            following.push(n);
          }
      frontier = following;
    }
  };
  walk((k) => graph.dependenciesOf(k), up);
  walk((k) => dependents.get(k.toString()) ?? [], down);
  return graph.topologicalSort(picked.values());
}

interface Model {
  title: string | null;
  nodes: {
    key: string;
    version: string;
    codeVersion: string;
    fields: { key: string; version: string; codeVersion: string }[];
  }[];
  edges: { from: string; to: string }[];
  fieldEdges: { from: string; fromField: string; to: string; toField: string }[];
}

function model(graph: FeatureGraph, keys: readonly FeatureKey[], options: RenderOptions): Model {
  const selected = new Set(keys.map(String));
  const nodes = keys.map((k) => {
    const def = graph.get(k);
    return {
      key: k.toString(),
      version: graph.featureVersion(k),
      codeVersion: graph.codeVersion(k),
      fields: def.spec.fields.map((f) => ({
        key: f.key.toString(),
        version: graph.fieldVersion(k, f.key.toString()),
        codeVersion: f.codeVersion,
      })),
    };
  });
  const edges: Model["edges"] = [];
  const fieldEdges: Model["fieldEdges"] = [];
  for (const k of keys) {
    const deps = [...new Set(graph.dependenciesOf(k).map(String))].filter((d) => selected.has(d));
    for (const d of deps.sort(compareStrings)) edges.push({ from: d, to: k.toString() });
    for (const f of graph.get(k).spec.fields)
      for (const p of graph.parentFields(k, f.key.toString()))
        if (selected.has(p.feature.toString()))
          fieldEdges.push({
            from: p.feature.toString(),
            fromField: p.field.toString(),
            to: k.toString(),
            toField: f.key.toString(),
          });
  }
  let title: string | null = null;
  if (options.title !== null) {
    title =
      options.title ??
      `Feature graph: project ${graph.project}${options.showProjectVersion ? ` (version ${shortHash(graph.projectVersion(), options.hashLength)})` : ""}`;
  }
  return { title, nodes, edges, fieldEdges };
}

function featureLines(n: Model["nodes"][number], o: RenderOptions): string[] {
  const lines = [n.key];
  if (o.showFeatureVersions) lines.push(`v ${shortHash(n.version, o.hashLength)}`);
  if (o.showCodeVersions) lines.push(`code ${shortHash(n.codeVersion, o.hashLength)}`);
  return lines;
}

function fieldLines(f: Model["nodes"][number]["fields"][number], o: RenderOptions): string[] {
  const lines = [f.key];
  if (o.showFieldVersions) lines.push(`v ${shortHash(f.version, o.hashLength)}`);
  if (o.showCodeVersions) lines.push(`code ${f.codeVersion}`);
  return lines;
}

/** Unique identifiers made of `[A-Za-z0-9_]` (safe in Mermaid, never a keyword). */
class Ids {
  readonly #byName = new Map<string, string>();
  readonly #used = new Set<string>();
  get(name: string, prefix = "f_"): string {
    const known = this.#byName.get(name);
    if (known) return known;
    const base = prefix + name.replace(/[^A-Za-z0-9]+/g, "_");
    let id = base;
    for (let i = 2; this.#used.has(id); i++) id = `${base}_${i}`;
    this.#used.add(id);
    this.#byName.set(name, id);
    return id;
  }
}

function mermaidText(lines: string[]): string {
  return `"${lines.map((l) => l.replaceAll("&", "#amp;").replaceAll('"', "#quot;").replaceAll("<", "#lt;").replaceAll(">", "#gt;")).join("<br/>")}"`;
}

/** A Mermaid flowchart (`flowchart TB|LR`); with `showFields`, features are subgraphs of field nodes. */
export function renderMermaid(
  graph: FeatureGraph,
  keys: readonly FeatureKey[],
  options: RenderOptions,
): string {
  const m = model(graph, keys, options);
  const ids = new Ids();
  const out: string[] = [];
  if (m.title) out.push("---", `title: ${JSON.stringify(m.title)}`, "---");
  out.push(`flowchart ${options.direction}`);
  for (const n of m.nodes) {
    const id = ids.get(n.key);
    if (options.showFields) {
      out.push(`    subgraph ${id}[${mermaidText(featureLines(n, options))}]`);
      out.push(`        direction ${options.direction}`);
      for (const f of n.fields)
        out.push(`        ${ids.get(`${n.key}.${f.key}`, "x_")}[${mermaidText(fieldLines(f, options))}]`);
      out.push("    end");
    } else out.push(`    ${id}[${mermaidText(featureLines(n, options))}]`);
  }
  if (options.showFields)
    for (const e of m.fieldEdges)
      out.push(
        `    ${ids.get(`${e.from}.${e.fromField}`, "x_")} --> ${ids.get(`${e.to}.${e.toField}`, "x_")}`,
      );
  else for (const e of m.edges) out.push(`    ${ids.get(e.from)} --> ${ids.get(e.to)}`);
  return `${out.join("\n")}\n`;
}

function dotString(s: string): string {
  return `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")}"`;
}

/** A Graphviz `digraph`; with `showFields`, features are clusters of field nodes. */
export function renderGraphviz(
  graph: FeatureGraph,
  keys: readonly FeatureKey[],
  options: RenderOptions,
): string {
  const m = model(graph, keys, options);
  const out = ["digraph metaxy {", `  rankdir=${options.direction};`];
  if (m.title) out.push(`  label=${dotString(m.title)};`, "  labelloc=t;");
  out.push('  node [shape=box, style="rounded", fontname="Helvetica"];');
  out.push('  edge [fontname="Helvetica"];');
  m.nodes.forEach((n, i) => {
    if (options.showFields) {
      out.push(`  subgraph cluster_${i} {`);
      out.push(`    label=${dotString(featureLines(n, options).join("\n"))};`);
      out.push('    style="rounded";');
      for (const f of n.fields)
        out.push(
          `    ${dotString(`${n.key}.${f.key}`)} [label=${dotString(fieldLines(f, options).join("\n"))}];`,
        );
      out.push("  }");
    } else out.push(`  ${dotString(n.key)} [label=${dotString(featureLines(n, options).join("\n"))}];`);
  });
  if (options.showFields)
    for (const e of m.fieldEdges)
      out.push(`  ${dotString(`${e.from}.${e.fromField}`)} -> ${dotString(`${e.to}.${e.toField}`)};`);
  else for (const e of m.edges) out.push(`  ${dotString(e.from)} -> ${dotString(e.to)};`);
  out.push("}");
  return `${out.join("\n")}\n`;
}

/**
 * An indented tree: roots at the top, dependents below their parents. A feature with several
 * parents is drawn in full once; later occurrences say "(see above)".
 */
export function renderTerminal(
  graph: FeatureGraph,
  keys: readonly FeatureKey[],
  options: RenderOptions,
): string {
  const m = model(graph, keys, options);
  const byKey = new Map(m.nodes.map((n) => [n.key, n]));
  const children = new Map<string, string[]>();
  const parents = new Map<string, string[]>();
  for (const e of m.edges) {
    children.set(e.from, [...(children.get(e.from) ?? []), e.to]);
    parents.set(e.to, [...(parents.get(e.to) ?? []), e.from]);
  }
  const parentFields = new Map<string, string[]>();
  for (const e of m.fieldEdges) {
    const k = `${e.to}.${e.toField}`;
    parentFields.set(k, [...(parentFields.get(k) ?? []), `${e.from}.${e.fromField}`]);
  }
  const out: string[] = [];
  if (m.title) out.push(m.title);
  const drawn = new Set<string>();
  const label = (n: Model["nodes"][number]) => {
    const [key, ...rest] = featureLines(n, options);
    return rest.length > 0 ? `${key}  (${rest.join(", ")})` : key;
  };
  const draw = (key: string, prefix: string, last: boolean, top: boolean) => {
    const n = byKey.get(key)!;
    const branch = top ? "" : last ? "└── " : "├── ";
    const childPrefix = top ? "" : prefix + (last ? "    " : "│   ");
    if (drawn.has(key)) {
      out.push(`${prefix}${branch}${n.key}  (see above)`);
      return;
    }
    drawn.add(key);
    out.push(`${prefix}${branch}${label(n)}`);
    const kids = [...(children.get(key) ?? [])].sort(compareStrings);
    if (options.showFields)
      for (const f of n.fields) {
        const [fk, ...rest] = fieldLines(f, options);
        const from = parentFields.get(`${key}.${f.key}`);
        out.push(
          `${childPrefix}${kids.length > 0 ? "│" : " "}  · ${fk}${rest.length ? `  (${rest.join(", ")})` : ""}${from ? `  ← ${from.join(", ")}` : ""}`,
        );
      }
    for (const [i, c] of kids.entries()) draw(c, childPrefix, i === kids.length - 1, false);
  };
  const roots = m.nodes.filter((n) => !parents.has(n.key)).map((n) => n.key);
  for (const r of roots.sort(compareStrings)) draw(r, "", true, true);
  if (m.nodes.length === 0) out.push("(no features)");
  return `${out.join("\n")}\n`;
}

/** The same graph as data (`--format json`). */
export function graphJson(graph: FeatureGraph, keys: readonly FeatureKey[], options: RenderOptions) {
  const m = model(graph, keys, options);
  return {
    project: graph.project,
    project_version: graph.projectVersion(),
    nodes: m.nodes.map((n) => ({
      key: n.key,
      version: n.version,
      code_version: n.codeVersion,
      fields: n.fields.map((f) => ({ key: f.key, version: f.version, code_version: f.codeVersion })),
    })),
    edges: m.edges,
    field_edges: m.fieldEdges.map((e) => ({ from: `${e.from}.${e.fromField}`, to: `${e.to}.${e.toField}` })),
  };
}

// @vitest-environment jsdom
import { FeatureGraph, FieldsMapping, Lineage, defineFeature } from "@metaxy/core";
import { videoFeatures } from "@metaxy/core/testing";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_RENDER_OPTIONS, renderMermaid, selectSubgraph } from "../src/output/graph-render.js";
import { type Project, makeProject, run } from "./helpers.js";

// The real Mermaid parser (the one mermaid.render uses); it needs a DOM for DOMPurify, hence jsdom.
type Mermaid = { parse(text: string): Promise<unknown> };
let mermaid: Mermaid;
let project: Project;

beforeAll(async () => {
  mermaid = (await import("mermaid")).default as unknown as Mermaid;
  project = makeProject("mermaid");
});
afterAll(() => project.cleanup());

async function expectParses(text: string): Promise<void> {
  const result = (await mermaid.parse(text)) as { diagramType?: string };
  expect(result.diagramType).toMatch(/^flowchart/);
}

describe("mermaid output parses with the mermaid parser", () => {
  test("the parser rejects broken input (negative control)", async () => {
    await expect(mermaid.parse("flowchart TB\n  a --> --> b[")).rejects.toThrow(/Parse error/);
  });

  test("metaxy graph render --format mermaid (CLI), feature and field level", async () => {
    for (const extra of [[], ["--show-fields"], ["--direction", "LR", "--verbose"], ["--minimal"]]) {
      const r = await run(["graph", "render", "--format", "mermaid", ...extra], { cwd: project.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^(---\n[\s\S]*?\n---\n)?flowchart (TB|LR)\n/);
      await expectParses(r.stdout);
    }
  });

  test("tricky keys, reserved words, multi-part fields, titles with quotes, subgraphs", async () => {
    const end = defineFeature({
      key: "end",
      idColumns: ["id"],
      fields: ["graph", "audio/french", "subgraph"],
    });
    const style = defineFeature({
      key: "style/click-x_y",
      idColumns: ["id"],
      deps: [{ feature: end, fieldsMapping: FieldsMapping.all() }],
      fields: ["end", { key: "class", deps: [{ feature: end, fields: ["audio/french"] }] }],
    });
    // Its Mermaid id collides with style/click-x_y's; its table does not (keys sharing a table are rejected).
    const agg = defineFeature({
      key: "style_click/x-y",
      idColumns: ["group"],
      deps: [{ feature: style, lineage: Lineage.aggregation({ on: ["group"] }) }],
      fields: ["default"],
    });
    const graph = new FeatureGraph([end, style, agg], { project: "p" });
    for (const showFields of [false, true])
      for (const direction of ["TB", "LR"] as const) {
        const text = renderMermaid(graph, selectSubgraph(graph), {
          ...DEFAULT_RENDER_OPTIONS,
          showFields,
          showCodeVersions: true,
          direction,
          title: 'A "quoted" <title> & more',
        });
        await expectParses(text);
      }
  });

  test("a subgraph around one feature", async () => {
    const { graph, transcript } = videoFeatures();
    const keys = selectSubgraph(graph, transcript.key, 1, 0);
    expect(keys.map(String)).toEqual(["video/raw", "video/transcript"]);
    await expectParses(renderMermaid(graph, keys, { ...DEFAULT_RENDER_OPTIONS, showFields: true }));
  });
});

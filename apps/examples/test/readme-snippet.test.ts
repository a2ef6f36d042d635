import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

it("the root README's code block is the quickstart example, verbatim", () => {
  const root = join(import.meta.dirname, "..", "..", "..");
  const readme = readFileSync(join(root, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## The idea in code"));
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  const source = readFileSync(join(root, "apps/examples/src/quickstart/quickstart.ts"), "utf8");
  expect(block?.trimEnd()).toBe(source.trimEnd());
});

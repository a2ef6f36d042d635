import { execFileSync } from "node:child_process";
import { builtinModules } from "node:module";
import { join } from "node:path";
import { runInNewContext } from "node:vm";
import { type BuildOptions, type Plugin, build } from "esbuild";
import { describe, expect, it } from "vitest";
import { run as runInNode } from "./fixtures/sandbox-entry.js";

// The main entry has to bundle where Node built-ins are refused (a Temporal workflow bundle, a
// browser) and load with require(): no `node:` import and no top-level await anywhere in its graph.

const root = join(import.meta.dirname, "..");
const entry = join(import.meta.dirname, "fixtures", "sandbox-entry.ts");
const builtins = new Set(builtinModules);

/** Fails the build on any Node built-in, as Temporal's workflow bundler does. */
const refuseNodeBuiltins: Plugin = {
  name: "refuse-node-builtins",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.replace(/^node:/, "").split("/")[0];
      if (args.path.startsWith("node:") || builtins.has(bare))
        return { errors: [{ text: `Node built-in "${args.path}" imported by ${args.importer}` }] };
      return undefined;
    });
  },
};

/** `@metaxy/core` as users get it (dist), and as the workspace resolves it (TypeScript source). */
const variants = [
  ["dist", []],
  ["source", ["@metaxy/source"]],
] as const;

function bundle(conditions: readonly string[], options: BuildOptions) {
  return build({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    write: false,
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: [...conditions],
    plugins: [refuseNodeBuiltins],
    logLevel: "silent",
    ...options,
  });
}

describe.each(variants)("the main entry (%s)", (_name, conditions) => {
  it("bundles with Node built-ins refused, and runs in a sandbox without `process` like Node does", async () => {
    const result = await bundle(conditions, { format: "iife", globalName: "sandboxEntry" });
    const code = result.outputFiles![0].text;
    // Only what a workflow sandbox offers: no process, require, Buffer or module loader.
    const sandbox = { TextEncoder, TextDecoder, structuredClone, sandboxEntry: undefined as any };
    runInNewContext(code, sandbox);
    expect(await sandbox.sandboxEntry.run()).toEqual(await runInNode());
  });

  it("has no top-level await (it would fail require() and CommonJS bundles)", async () => {
    await expect(bundle(conditions, { format: "cjs" })).resolves.toMatchObject({ errors: [] });
  });
});

describe("a built-in import is caught by the bundle check", () => {
  it("node:crypto fails the build", async () => {
    await expect(
      build({
        stdin: {
          contents: 'import { createHash } from "node:crypto"; console.log(createHash);',
          resolveDir: root,
        },
        bundle: true,
        write: false,
        platform: "neutral",
        plugins: [refuseNodeBuiltins],
        logLevel: "silent",
      }),
    ).rejects.toThrow(/Node built-in "node:crypto"/);
  });
});

it.runIf(process.features.require_module)("require() loads the built main entry", () => {
  const script = 'const m = require("@metaxy/core"); process.stdout.write(String(typeof m.defineFeature));';
  const out = execFileSync(process.execPath, ["-e", script], { cwd: root, encoding: "utf8", env: {} });
  expect(out).toBe("function");
});

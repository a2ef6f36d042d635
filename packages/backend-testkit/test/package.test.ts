import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..");

describe("the published package", () => {
  it("imports no test runner: the caller passes its own", () => {
    const sources = readdirSync(join(root, "src"), { recursive: true, encoding: "utf8" }).filter((f) =>
      f.endsWith(".ts"),
    );
    expect(sources.length).toBeGreaterThan(10);
    for (const file of sources) {
      const code = readFileSync(join(root, "src", file), "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/\/\/.*$/gm, "");
      expect(code, file).not.toMatch(/(from|import)\s*\(?\s*["'](vitest|@vitest\/|jest|@jest\/)/);
    }
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(pkg.private).toBeUndefined();
    expect({ ...pkg.dependencies, ...pkg.peerDependencies }).not.toHaveProperty("vitest");
    expect(pkg.exports["."].types).toBe("./dist/index.d.ts");
  });
});

#!/usr/bin/env node
// Lints how every publishable package (packages/* not marked private) would be packed: exports
// and their types, files, module format. `--strict` makes publint's warnings fail too.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const packages = readdirSync(join(root, "packages"), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => join(root, "packages", d.name))
  .filter((dir) => !JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).private);

for (const dir of packages)
  execFileSync("pnpm", ["exec", "publint", "--strict", dir], { cwd: root, stdio: "inherit" });

#!/usr/bin/env node
// Brings a fresh clone to a runnable state: the pinned pnpm, dependencies, built packages.
// Idempotent and quick when everything is already in place.
import { execSync } from "node:child_process";
import { readFileSync } from "node:fs";

const root = new URL("..", import.meta.url).pathname;
const pinned = JSON.parse(readFileSync(`${root}package.json`, "utf8")).packageManager.split("@")[1];
const run = (cmd) =>
  execSync(cmd, { cwd: root, stdio: "inherit", env: { ...process.env, TURBO_TELEMETRY_DISABLED: "1" } });

let current = "";
try {
  current = execSync("pnpm --version", { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
} catch {}
if (current !== pinned) {
  console.log(`[bootstrap] installing pnpm@${pinned} (found: ${current || "none"})`);
  run(`npm install --global pnpm@${pinned}`);
}
run("pnpm install --frozen-lockfile --reporter=silent");
run("pnpm exec turbo run build --output-logs=errors-only");

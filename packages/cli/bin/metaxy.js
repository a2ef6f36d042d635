#!/usr/bin/env node
// Committed, unlike dist/, so that package managers can link the `metaxy` bin at install time,
// before the CLI is built (a workspace install links bins before any build runs).
import { existsSync } from "node:fs";

const target = new URL("../dist/bin.js", import.meta.url);
if (!existsSync(target)) {
  process.stderr.write(
    "Error: @metaxy/cli is not built yet\nHint: run `pnpm --filter @metaxy/cli build` (in this repository: `node scripts/bootstrap.mjs`).\n",
  );
  process.exit(1);
}
await import(target.href);

import { defineConfig } from "vitest/config";

// Workspace packages resolve through their `@metaxy/source` export condition to TypeScript source,
// so a package's tests see edits to core (or the testkit) without rebuilding its dist. The other
// entries are Vite's defaults, which a `conditions` list replaces.
const SOURCE = "@metaxy/source";

export default defineConfig({
  resolve: { conditions: [SOURCE, "module", "browser", "development|production"] },
  ssr: { resolve: { conditions: [SOURCE, "node", "development|production"] } },
});

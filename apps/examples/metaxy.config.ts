import { duckdb } from "@metaxy/backend-duckdb";
import { defineConfig } from "@metaxy/core";
import { videoFeatures } from "./src/video-pipeline/features.js";

/** `metaxy` CLI configuration for the main job's store (run `npm run demo` first). */
const { graph } = videoFeatures({ audioCodeVersion: "2" });

export default defineConfig({
  project: "video",
  features: graph,
  stores: {
    dev: {
      backend: () => duckdb({ path: ".metaxy/video-demo.duckdb" }),
      description: "the main job's store",
    },
  },
});

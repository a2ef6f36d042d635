import { defineConfig, mergeConfig } from "vitest/config";
import shared from "../../vitest.shared.js";

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      include: ["test/**/*.test.ts"],
      globalSetup: ["test/global-setup.ts"],
      testTimeout: 180_000,
      hookTimeout: 600_000,
      // Each test drives a Python process: on 2 cores, files run one after another.
      fileParallelism: false,
    },
  }),
);

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { memory } from "../backends/memory.js";
import { InvalidConfigError, MetaxyError } from "../errors.js";
import { FeatureGraph } from "../graph/feature-graph.js";
import { defineFeature } from "../spec/define-feature.js";
import type { Backend } from "../store/backend.js";
import { DEFAULT_STORE_NAME, type MetaxyConfig, defineConfig } from "./define-config.js";
import { findConfigFile, loadConfig, openStore, resolveConfig } from "./load-config.js";

const raw = defineFeature({ key: "video/raw", idColumns: ["id"], fields: ["audio"] });
const text = defineFeature({ key: "video/text", idColumns: ["id"], deps: [raw], fields: ["text"] });

function config(extra: Partial<MetaxyConfig> = {}): MetaxyConfig {
  return { project: "video", features: [raw, text], stores: { dev: { backend: () => memory() } }, ...extra };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return MetaxyError.isInstance(e) ? e.code : String(e);
  }
  return undefined;
}

describe("defineConfig", () => {
  test("returns the config unchanged when valid", () => {
    const c = config();
    expect(defineConfig(c)).toBe(c);
  });

  test.each([
    ["bad project", { project: "a/b" }, "project"],
    ["double underscore", { project: "a__b" }, "project"],
    [
      "backend not a function",
      { stores: { dev: { backend: memory() as unknown as () => Backend } } },
      "stores.dev.backend",
    ],
    ["short truncation", { hashTruncationLength: 4 }, "hashTruncationLength"],
    ["unknown key", { sotres: {} } as Partial<MetaxyConfig>, "(root)"],
    ["features not a list", { features: "video/raw" as unknown as MetaxyConfig["features"] }, "features"],
  ])("rejects %s", (_name, extra, path) => {
    try {
      defineConfig(config(extra));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidConfigError);
      expect((e as InvalidConfigError).details.path).toBe(path);
    }
  });

  test("rejects an unknown fallback store", () => {
    expect(
      codeOf(() =>
        defineConfig(config({ stores: { dev: { backend: () => memory(), fallbackStores: ["prod"] } } })),
      ),
    ).toBe("INVALID_CONFIG");
  });
});

describe("resolveConfig", () => {
  test("defaults: store dev, truncation 8, graph under the config project", () => {
    const r = resolveConfig(config(), { env: {} });
    expect(r.store).toBe(DEFAULT_STORE_NAME);
    expect(r.hashTruncationLength).toBe(8);
    expect(r.graph.project).toBe("video");
    expect(r.graph.keys.map(String)).toEqual(["video/raw", "video/text"]);
  });

  test("accepts a FeatureGraph and rebuilds it under the config's project", () => {
    const graph = new FeatureGraph([raw, text], { project: "other" });
    const r = resolveConfig(config({ features: graph }), { env: {} });
    expect(r.graph.project).toBe("video");
    expect(r.graph.featureVersion("video/text")).toBe(graph.featureVersion("video/text"));
  });

  test("METAXY_* variables override the file; overrides beat variables", () => {
    const env = {
      METAXY_PROJECT: "audio",
      METAXY_STORE: "prod",
      METAXY_HASH_TRUNCATION_LENGTH: "12",
      METAXY_HASH_ALGORITHM: "md5",
      METAXY_AUTO_CREATE_TABLES: "false",
      METAXY_STORES__DEV__FALLBACK_STORES: "prod",
      METAXY_STORES__PROD__HASH_ALGORITHM: "sha256",
      METAXY_STORES__NOPE__HASH_ALGORITHM: "md5",
    };
    const c = config({ stores: { dev: { backend: () => memory() }, prod: { backend: () => memory() } } });
    const r = resolveConfig(c, { env });
    expect(r.project).toBe("audio");
    expect(r.graph.project).toBe("audio");
    expect(r.store).toBe("prod");
    expect(r.hashTruncationLength).toBe(12);
    expect(r.graph.featureVersion("video/raw")).toHaveLength(12);
    expect(r.hashAlgorithm).toBe("md5");
    expect(r.autoCreateTables).toBe(false);
    expect(r.stores.dev.fallbackStores).toEqual(["prod"]);
    expect(r.stores.prod.hashAlgorithm).toBe("sha256");
    expect(r.warnings.join("\n")).toMatch(/METAXY_STORES__NOPE__HASH_ALGORITHM/);
    expect(resolveConfig(c, { env, overrides: { store: "dev" } }).store).toBe("dev");
  });

  test.each([
    ["METAXY_HASH_TRUNCATION_LENGTH", "5"],
    ["METAXY_HASH_ALGORITHM", "crc32"],
    ["METAXY_AUTO_CREATE_TABLES", "maybe"],
    ["METAXY_PROJECT", "no/slash"],
    ["METAXY_STORES__DEV__FALLBACK_STORES", "missing"],
  ])("invalid %s=%s is an InvalidConfigError", (name, value) => {
    expect(codeOf(() => resolveConfig(config(), { env: { [name]: value } }))).toBe("INVALID_CONFIG");
  });

  test("an invalid graph is an InvalidConfigError carrying the cause's code", () => {
    try {
      resolveConfig(config({ features: [text] }), { env: {}, configFile: "/x/metaxy.config.ts" });
      expect.unreachable();
    } catch (e) {
      expect((e as MetaxyError).code).toBe("INVALID_CONFIG");
      expect((e as MetaxyError).message).toContain("/x/metaxy.config.ts");
      expect((e as MetaxyError).details.cause_code).toBe("MISSING_FEATURE_DEPENDENCY");
    }
  });
});

describe("loadConfig (files)", () => {
  const root = mkdtempSync(join(tmpdir(), "metaxy-config-"));
  beforeAll(() => {
    mkdirSync(join(root, "a", "b", "c"), { recursive: true });
    mkdirSync(join(root, "other"), { recursive: true });
    writeFileSync(
      join(root, "a", "metaxy.config.mjs"),
      "export default { project: 'from_file', features: [], store: 'local' };\n",
    );
    writeFileSync(
      join(root, "other", "custom.mjs"),
      "export const config = { project: 'named', features: [] };\n",
    );
    writeFileSync(join(root, "other", "broken.mjs"), "export default { project: ;\n");
    writeFileSync(
      join(root, "other", "fn.mjs"),
      "export default async () => ({ project: 'lazy', features: [] });\n",
    );
    writeFileSync(
      join(root, "other", "bad.mjs"),
      "export default { project: 'x', features: [], stores: 3 };\n",
    );
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  test("discovers the config from a subdirectory upward", async () => {
    expect(findConfigFile(join(root, "a", "b", "c"))).toBe(join(root, "a", "metaxy.config.mjs"));
    expect(findConfigFile(join(root, "a", "b", "c"), false)).toBeNull();
    const r = await loadConfig({ cwd: join(root, "a", "b", "c"), env: {} });
    expect(r.project).toBe("from_file");
    expect(r.store).toBe("local");
    expect(r.configFile).toBe(join(root, "a", "metaxy.config.mjs"));
  });

  test("prefers metaxy.config.ts in the same directory", () => {
    const dir = join(root, "a", "b");
    writeFileSync(join(dir, "metaxy.config.ts"), "export default {}\n");
    writeFileSync(join(dir, "metaxy.config.js"), "export default {}\n");
    expect(findConfigFile(dir)).toBe(join(dir, "metaxy.config.ts"));
    rmSync(join(dir, "metaxy.config.ts"));
    rmSync(join(dir, "metaxy.config.js"));
  });

  test("METAXY_CONFIG names the file (relative to cwd); configFile beats it", async () => {
    const env = { METAXY_CONFIG: "other/custom.mjs" };
    expect((await loadConfig({ cwd: root, env })).project).toBe("named");
    expect((await loadConfig({ cwd: root, env, configFile: "other/fn.mjs" })).project).toBe("lazy");
  });

  test("a custom importModule (the CLI passes a TypeScript loader)", async () => {
    const r = await loadConfig({
      cwd: join(root, "a"),
      env: {},
      importModule: async () => ({ default: defineConfig(config()) }),
    });
    expect(r.project).toBe("video");
  });

  test.each([
    ["nothing found", { cwd: join(root, "other"), env: {} }, /No Metaxy config found/],
    ["missing file", { cwd: root, env: { METAXY_CONFIG: "nope.mjs" } }, /nope\.mjs does not exist/],
    [
      "syntax error",
      { cwd: root, env: {}, configFile: "other/broken.mjs" },
      /Could not load config file .*broken\.mjs/,
    ],
    ["invalid content", { cwd: root, env: {}, configFile: "other/bad.mjs" }, /bad\.mjs: stores/],
  ])("%s → InvalidConfigError naming the file", async (_name, options, message) => {
    const error = await loadConfig(options).catch((e) => e);
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error.message).toMatch(message);
  });

  test("a .ts config without a TypeScript loader explains what is missing", async () => {
    writeFileSync(join(root, "other", "x.ts"), "export default { project: 'x', features: [] };\n");
    const importModule = async () => {
      throw new TypeError('Unknown file extension ".ts" for x.ts');
    };
    const error = await loadConfig({ cwd: root, env: {}, configFile: "other/x.ts", importModule }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(InvalidConfigError);
    expect(error.details.file).toBe(join(root, "other", "x.ts"));
    expect(error.message).toMatch(/needs a TypeScript loader/);
  });
});

describe("openStore", () => {
  function tracked(name: string, log: string[]): () => Backend {
    const backend = memory({ name });
    const close = backend.close.bind(backend);
    backend.close = async () => {
      log.push(name);
      await close();
    };
    return () => backend;
  }

  test("opens the default store with its fallbacks by name, and closes them together", async () => {
    const log: string[] = [];
    const c = resolveConfig(
      config({
        stores: {
          dev: { backend: tracked("dev", log), fallbackStores: ["prod"] },
          prod: { backend: tracked("prod", log) },
        },
      }),
      { env: {} },
    );
    const prod = await openStore(c, "prod");
    const sample = { id: "a", metaxy_provenance_by_field: { audio: "h1" } };
    await prod.write(raw, [sample]);
    await prod.close();
    log.length = 0;

    const dev = await openStore(c, undefined, { mode: "r" });
    expect(dev.name).toBe("dev");
    expect(dev.mode).toBe("r");
    expect(dev.fallbackStores.map((s) => s.name)).toEqual(["prod"]);
    expect(await dev.count(raw)).toBe(1);
    expect(await dev.hasFeature(raw, false)).toBe(false);
    await dev.close();
    expect(log).toEqual(["dev", "prod"]);
  });

  test("unknown store and fallback cycles are InvalidConfigErrors", async () => {
    const c = resolveConfig(
      config({
        stores: {
          a: { backend: () => memory(), fallbackStores: ["b"] },
          b: { backend: () => memory(), fallbackStores: ["a"] },
        },
      }),
      { env: {} },
    );
    const unknown = await openStore(c, "nope").catch((e) => e);
    expect(unknown.code).toBe("INVALID_CONFIG");
    expect(unknown.message).toMatch(/Available: a, b/);
    expect(unknown.message).toMatch(/METAXY_/);
    const cycle = await openStore(c, "a").catch((e) => e);
    expect(cycle.code).toBe("INVALID_CONFIG");
    expect(cycle.message).toMatch(/a -> b -> a/);
  });

  test("a failing backend factory is an InvalidConfigError naming the store", async () => {
    const c = resolveConfig(
      config({
        stores: {
          dev: {
            backend: () => {
              throw new Error("no such bucket");
            },
          },
        },
      }),
      { env: {} },
    );
    const error = await openStore(c).catch((e) => e);
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.message).toMatch(/store "dev".*no such bucket/);
  });

  test("the store hash algorithm comes from the store, then the config", async () => {
    const c = resolveConfig(
      config({
        hashAlgorithm: "md5",
        stores: {
          dev: { backend: () => memory() },
          prod: { backend: () => memory(), hashAlgorithm: "sha256" },
        },
      }),
      { env: {} },
    );
    const dev = await openStore(c);
    const prod = await openStore(c, "prod");
    expect(dev.hashAlgorithm).toBe("md5");
    expect(prod.hashAlgorithm).toBe("sha256");
    await dev.close();
    await prod.close();
  });
});

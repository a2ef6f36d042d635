import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import type { AccessMode, MetadataStore } from "@metaxy/core";
import { type ResolvedMetaxyConfig, loadConfig, openStore } from "@metaxy/core/node";
import { CliError } from "./errors.js";
import { toJson } from "./output/json.js";
import { Progress } from "./output/progress.js";

export interface Io {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Options given before or after any command. */
export interface GlobalOptions {
  config?: string;
  store?: string;
  project?: string;
  format?: string;
}

export const PLAIN_FORMATS = ["plain", "json"] as const;
export type PlainFormat = (typeof PLAIN_FORMATS)[number];

const require = createRequire(import.meta.url);
export const CLI_VERSION: string = require("../package.json").version;

/**
 * Imports the config module: JavaScript natively, TypeScript through jiti (loaded only then).
 * jiti resolves packages natively, so the config and the CLI share one copy of @metaxy/core.
 */
async function importConfigModule(file: string): Promise<unknown> {
  if (/\.(m|c)?js$/.test(file)) return import(pathToFileURL(file).href);
  const { createJiti } = await import("jiti");
  return createJiti(import.meta.url, { interopDefault: false }).import(file);
}

/** What a command sees: global options, the lazily loaded config, stores, and output. */
export class Context {
  readonly warnings: string[] = [];
  readonly progress: Progress;
  exitCode = 0;
  #config: Promise<ResolvedMetaxyConfig> | undefined;

  constructor(
    readonly io: Io,
    readonly globals: GlobalOptions,
  ) {
    this.progress = new Progress(io.stderr, io.env);
  }

  /** The output format among `allowed` (first = default); anything else is an INVALID_ARGUMENT. */
  format<T extends string>(allowed: readonly T[]): T {
    const f = this.globals.format ?? allowed[0];
    if (!(allowed as readonly string[]).includes(f))
      throw new CliError(
        "INVALID_ARGUMENT",
        `Unsupported --format "${f}" for this command; use one of: ${allowed.join(", ")}`,
        { format: f, allowed: [...allowed] },
      );
    return f as T;
  }

  get isJson(): boolean {
    return this.globals.format === "json";
  }

  config(): Promise<ResolvedMetaxyConfig> {
    this.#config ??= loadConfig({
      cwd: this.io.cwd,
      env: this.io.env,
      configFile: this.globals.config,
      importModule: importConfigModule,
      overrides: { store: this.globals.store, project: this.globals.project },
    }).then((c) => {
      for (const w of c.warnings) this.warn(w);
      return c;
    });
    return this.#config;
  }

  /** Opens a store (default: the configured default, or `--store`) for the duration of `fn`. */
  async withStore<T>(
    mode: AccessMode,
    fn: (store: MetadataStore, config: ResolvedMetaxyConfig) => Promise<T>,
    name?: string,
  ): Promise<T> {
    const config = await this.config();
    const store = await openStore(config, name ?? config.store, { mode });
    try {
      return await fn(store, config);
    } finally {
      await store.close();
    }
  }

  /** A line of the command's result on stdout. */
  print(text = ""): void {
    this.io.stdout.write(`${text}\n`);
  }

  /** A status line on stderr (not part of the result; silent in JSON mode). */
  info(text: string): void {
    if (!this.isJson) this.io.stderr.write(`${text}\n`);
  }

  /** A warning: on stderr in plain mode; JSON results carry them in `warnings`. */
  warn(message: string): void {
    this.warnings.push(message);
    if (!this.isJson) this.io.stderr.write(`Warning: ${message}\n`);
  }

  /** A JSON result on stdout; warnings collected so far are added as `warnings`. */
  json(value: Record<string, unknown>): void {
    const out =
      this.warnings.length > 0 && !("warnings" in value) ? { ...value, warnings: this.warnings } : value;
    this.io.stdout.write(`${toJson(out)}\n`);
  }
}

import { Command, CommanderError } from "commander";
import { registerConfigCommands } from "./commands/config-print.js";
import { registerDescribeCommands } from "./commands/describe.js";
import { registerGraphDiffCommand } from "./commands/graph-diff.js";
import { registerGraphCommands } from "./commands/graph-render.js";
import { registerHistoryCommand } from "./commands/history.js";
import { registerListCommands } from "./commands/list.js";
import { registerMetadataCopyCommand } from "./commands/metadata-copy.js";
import { registerMetadataDeleteCommand } from "./commands/metadata-delete.js";
import { registerPlanCommand } from "./commands/plan.js";
import { registerPushCommand } from "./commands/push.js";
import { registerStatusCommand } from "./commands/status.js";
import { CLI_VERSION, Context, type GlobalOptions, type Io } from "./context.js";
import { CliError, errorPayload } from "./errors.js";
import { toJson } from "./output/json.js";

/** Runs one action with a fresh context; what it throws is reported by `main`. */
export type Action = (ctx: Context, ...args: any[]) => Promise<void>;
export type Wrap = (action: Action) => (...args: any[]) => Promise<void>;

/** Builds the `metaxy` program. `wrap` turns a command body into a commander action. */
export function createProgram(io: Io, onContext: (ctx: Context) => void): Command {
  const program = new Command("metaxy")
    .description(
      "Metaxy: field-level, record-level metadata versioning for incremental pipelines.\n" +
        "Reads metaxy.config.ts (found from the working directory upward) and METAXY_* variables.",
    )
    .version(CLI_VERSION, "-V, --version")
    .option("--config <file>", "config file (default: metaxy.config.ts found upward; env METAXY_CONFIG)")
    .option("--store <name>", "store to use (default: the config's `store`; env METAXY_STORE)")
    .option("--project <name>", "project (default: the config's `project`; env METAXY_PROJECT)")
    .option(
      "-f, --format <format>",
      "output format: plain | json (graph render: terminal | mermaid | graphviz | json)",
    )
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: () => undefined,
    });

  const wrap: Wrap =
    (action) =>
    async (...args: any[]) => {
      const ctx = new Context(io, program.opts<GlobalOptions>());
      onContext(ctx);
      await action(ctx, ...args);
    };

  registerListCommands(program, wrap);
  registerDescribeCommands(program, wrap);
  registerGraphCommands(program, wrap);
  registerGraphDiffCommand(program, wrap);
  registerStatusCommand(program, wrap);
  registerPlanCommand(program, wrap);
  registerPushCommand(program, wrap);
  registerHistoryCommand(program, wrap);
  registerMetadataDeleteCommand(program, wrap);
  registerMetadataCopyCommand(program, wrap);
  registerConfigCommands(program, wrap);
  for (const c of allCommands(program))
    c.exitOverride().configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: () => undefined,
    });
  return program;
}

function allCommands(c: Command): Command[] {
  return c.commands.flatMap((sub) => [sub, ...allCommands(sub)]);
}

/** Runs the CLI on `argv` (without `node` and the script) and returns the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let ctx: Context | undefined;
  const program = createProgram(io, (c) => {
    ctx = c;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return ctx?.exitCode ?? 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0 || e.code === "commander.helpDisplayed" || e.code === "commander.version")
        return 0;
      if (e.code === "commander.help" || e.code === "commander.executeSubCommandAsync") return e.exitCode;
      return report(io, wantsJson(argv), commanderError(e));
    }
    return report(io, ctx ? ctx.isJson : wantsJson(argv), e);
  }
}

/** Prints an error the SPEC §6 way and returns exit code 1. */
function report(io: Io, json: boolean, e: unknown): number {
  const p = errorPayload(e);
  if (json)
    io.stdout.write(
      `${toJson({ error: p.code, message: p.message, ...p.details, ...(p.hint ? { hint: p.hint } : {}) })}\n`,
    );
  else {
    io.stderr.write(`Error: ${p.message}\n`);
    if (p.hint) io.stderr.write(`Hint: ${p.hint}\n`);
    if (p.code === "GENERIC_ERROR" && io.env.METAXY_DEBUG && e instanceof Error && e.stack)
      io.stderr.write(`${e.stack}\n`);
  }
  return 1;
}

function commanderError(e: CommanderError): CliError {
  const message = e.message.replace(/^error: /, "");
  const capitalised = message.charAt(0).toUpperCase() + message.slice(1);
  switch (e.code) {
    case "commander.missingMandatoryOptionValue":
      return new CliError("MISSING_REQUIRED_FLAG", capitalised, {}, "See `metaxy <command> --help`.");
    case "commander.conflictingOption":
      return new CliError("CONFLICTING_FLAGS", capitalised);
    default:
      return new CliError("INVALID_ARGUMENT", capitalised, { reason: e.code }, "See `metaxy --help`.");
  }
}

function wantsJson(argv: readonly string[]): boolean {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if ((a === "--format" || a === "-f") && argv[i + 1] === "json") return true;
    if (a === "--format=json" || a === "-fjson") return true;
  }
  return false;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

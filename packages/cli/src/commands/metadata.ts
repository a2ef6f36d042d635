import type { Command } from "commander";

/** The `metadata` command group, created once whichever command registers first. */
export function metadataGroup(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === "metadata") ??
    program.command("metadata").description("Inspect and manage stored metadata (status, delete, copy)")
  );
}

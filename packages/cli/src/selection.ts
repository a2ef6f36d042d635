import { type FeatureGraph, FeatureKey, MetaxyError, compareStrings } from "@metaxy/core";
import { CliError } from "./errors.js";

/** A feature key as typed: `a/b`, or `a__b` (table-name style). Invalid → INVALID_FEATURE_KEY. */
export function parseFeatureKey(input: string): FeatureKey {
  const text = input.trim();
  const parts = text.includes("/") ? text.split("/") : text.split("__");
  try {
    return new FeatureKey(parts);
  } catch (e) {
    if (MetaxyError.isInstance(e))
      throw new CliError("INVALID_FEATURE_KEY", `Invalid feature key "${input}": ${e.message}`, {
        key: input,
      });
    throw e;
  }
}

export interface SelectionOptions {
  /** Neither keys nor `--all-features` is an error (else: every feature). */
  required: boolean;
  /** Unknown keys: error FEATURES_NOT_FOUND, or a warning (they are skipped). */
  unknown: "error" | "warn";
}

/**
 * Positional keys XOR `--all-features` (SPEC §6), resolved against the graph, in topological
 * order. `warn` receives the "Feature(s) not found" warning when unknown keys are tolerated.
 */
export function selectFeatures(
  graph: FeatureGraph,
  keys: readonly string[],
  allFeatures: boolean | undefined,
  options: SelectionOptions,
  warn: (message: string) => void,
): FeatureKey[] {
  if (keys.length > 0 && allFeatures)
    throw new CliError("CONFLICTING_FLAGS", "Give feature keys or --all-features, not both", {
      flags: ["--all-features", "<keys>"],
    });
  const project = graph.listFeatures().map((f) => f.key);
  if (keys.length === 0) {
    if (!allFeatures && options.required)
      throw new CliError(
        "MISSING_REQUIRED_FLAG",
        "Name the features to act on, or pass --all-features",
        { flags: ["--all-features", "<keys>"] },
        "e.g. `metaxy metadata delete video/raw` or `metaxy metadata delete --all-features`",
      );
    if (project.length === 0)
      throw new CliError("NO_FEATURES", `Project "${graph.project}" has no features`, {
        project: graph.project,
      });
    return graph.topologicalSort(project);
  }
  const parsed = keys.map(parseFeatureKey);
  const missing = parsed.filter((k) => !graph.has(k)).map(String);
  if (missing.length > 0) {
    const available = graph.keys.map(String).sort(compareStrings);
    const message = `Feature(s) not found: ${missing.join(", ")}`;
    if (options.unknown === "error" || missing.length === parsed.length)
      throw new CliError(
        "FEATURES_NOT_FOUND",
        message,
        { keys: missing, available },
        `Available features: ${available.join(", ") || "(none)"}`,
      );
    warn(message);
  }
  return graph.topologicalSort(parsed.filter((k) => graph.has(k)));
}

/** Collects a repeatable option's values. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseNonNegativeInt(name: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0)
      throw new CliError("INVALID_ARGUMENT", `${name} must be a non-negative integer, got "${value}"`, {
        option: name,
        value,
      });
    return n;
  };
}

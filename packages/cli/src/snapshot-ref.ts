import type { FeatureGraph, MetadataStore } from "@metaxy/core";
import type { ResolvedMetaxyConfig } from "@metaxy/core/node";
import { MetaxyError } from "@metaxy/core";
import { CliError } from "./errors.js";

export interface ResolvedGraphRef {
  ref: string;
  project_version: string;
  graph: FeatureGraph;
}

/**
 * `current` = the graph in code; `latest` = the newest pushed snapshot of the project; anything
 * else = a pushed project version.
 */
export async function resolveGraphRef(
  ref: string,
  config: ResolvedMetaxyConfig,
  store: MetadataStore | null,
): Promise<ResolvedGraphRef> {
  if (ref === "current") return { ref, project_version: config.graph.projectVersion(), graph: config.graph };
  if (!store) throw new CliError("SNAPSHOT_ERROR", `Reading snapshot "${ref}" needs a store`);
  let version = ref;
  if (ref === "latest") {
    const snapshots = await store.graphSnapshots(config.project);
    if (snapshots.length === 0)
      throw new CliError(
        "SNAPSHOT_ERROR",
        `No graph snapshots recorded for project "${config.project}" in store ${store.display()}`,
        { project: config.project, store: store.name ?? null },
        "Run `metaxy push` to record the current graph.",
      );
    version = snapshots[0].projectVersion;
  }
  try {
    const graph = await store.loadGraphSnapshot(version, config.project);
    return { ref, project_version: version, graph };
  } catch (e) {
    if (MetaxyError.isInstance(e) && e.code === "SYSTEM_DATA_NOT_FOUND")
      throw new CliError(
        "SNAPSHOT_LOAD_FAILED",
        `No graph snapshot "${version}" for project "${config.project}" in store ${store.display()}`,
        { project: config.project, project_version: version },
        "`metaxy history` lists the recorded project versions.",
      );
    if (MetaxyError.isInstance(e))
      throw new CliError("SNAPSHOT_LOAD_FAILED", `Cannot load graph snapshot "${version}": ${e.message}`, {
        project_version: version,
        cause: e.code,
      });
    throw e;
  }
}

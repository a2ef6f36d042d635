import { BigQuery } from "@google-cloud/bigquery";
import { SqlBackend } from "@metaxy/backend-sql";
import type { Backend, HashAlgorithm } from "@metaxy/core";
import { BIGQUERY_HASHES } from "./bigquery-dialect.js";
import { BigQueryDriver } from "./bigquery-driver.js";

interface CommonOptions {
  /** Dataset of the store (created when the store opens for writing). */
  dataset: string;
  /** Location of the dataset and its jobs (`US`, `EU`, a region). Default: the client's. */
  location?: string;
  /** Default record hash: `md5` or `sha256` (BigQuery has no xxhash). Default `md5`. */
  hashAlgorithm?: HashAlgorithm;
}

/** A client you created (its credentials and endpoint stay yours), or a project to create one for. */
export type BigQueryOptions =
  | (CommonOptions & { client: BigQuery; projectId?: undefined })
  | (CommonOptions & { projectId?: string; client?: undefined });

/**
 * A BigQuery store over `@google-cloud/bigquery`: pass your client (`{ client, dataset }`) or a
 * `projectId` (credentials from the environment, as the client finds them).
 */
export function bigquery(options: BigQueryOptions): Backend {
  const { dataset, location } = options;
  const client = options.client ?? (() => new BigQuery({ projectId: options.projectId, location }));
  const driver = new BigQueryDriver({ client, dataset, location });
  return new SqlBackend(driver, {
    kind: "bigquery",
    capabilities: {
      hashAlgorithms: BIGQUERY_HASHES,
      defaultHashAlgorithm: options.hashAlgorithm ?? "md5",
      // One load job per write: all of a write's rows or none. Several writes of one call are several jobs.
      atomicWrites: true,
    },
    // BigQuery bills the whole columns a resolve reads whatever its WHERE, and each job costs
    // about a second: checkpoint bookkeeping would add jobs and save no bytes. Resolves are full.
    incremental: false,
  });
}

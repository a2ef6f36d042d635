import { randomUUID } from "node:crypto";
import { BigQuery } from "@google-cloud/bigquery";
import { backendConformanceSuite } from "@metaxy/backend-testkit";
import * as vitest from "vitest";
import { bigquery } from "../src/index.js";

// Opt-in: runs the whole conformance suite on real BigQuery when METAXY_BIGQUERY_PROJECT names a
// project the environment's credentials can use. Without it the suite is reported as skipped.
const project = process.env.METAXY_BIGQUERY_PROJECT;
const location = process.env.METAXY_BIGQUERY_LOCATION;
const datasets = new WeakMap<object, string>();

vitest.describe.skipIf(!project)("real BigQuery (METAXY_BIGQUERY_PROJECT)", () => {
  backendConformanceSuite(vitest, {
    name: `bigquery (${project})`,
    makeBackend: () => {
      const dataset = `metaxy_test_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
      const backend = bigquery({ projectId: project, dataset, location });
      datasets.set(backend, dataset);
      return backend;
    },
    cleanup: async (backend) => {
      const dataset = datasets.get(backend);
      if (dataset)
        await new BigQuery({ projectId: project, location })
          .dataset(dataset)
          .delete({ force: true })
          .catch(() => undefined);
    },
    numRuns: 2,
  });
});

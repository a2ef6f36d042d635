import { backendConformanceSuite } from "@metaxy/backend-testkit";
import * as vitest from "vitest";
import { bigquery } from "../src/index.js";
import { dropDataset, emulatorClient, freshDataset, recycleEmulator } from "./emulator.js";

// Every store of the suite is a dataset of its own on the one emulator.
const datasets = new WeakMap<object, string>();
backendConformanceSuite(vitest, {
  name: "bigquery (emulator)",
  makeBackend: () => {
    const dataset = freshDataset("conformance");
    const backend = bigquery({ client: emulatorClient(), dataset });
    datasets.set(backend, dataset);
    return backend;
  },
  cleanup: async (backend) => {
    const dataset = datasets.get(backend);
    if (dataset) await dropDataset(dataset);
    await recycleEmulator();
  },
  // The emulator runs each job in about 0.1-0.3 s and one job at a time: one generated case per
  // property, with more time for it. A random graph took 360 s once (its size varies): a property
  // that times out keeps sending jobs and slows the next tests, so the limit is generous.
  numRuns: 1,
  timeoutFactor: 12,
});

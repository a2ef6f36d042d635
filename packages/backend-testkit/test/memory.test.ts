import { memory } from "@metaxy/core";
import * as vitest from "vitest";
import { backendConformanceSuite } from "../src/index.js";

backendConformanceSuite(vitest, { name: "memory", makeBackend: () => memory() });

import { memory } from "@metaxy/core";
import { backendConformanceSuite } from "../src/index.js";

backendConformanceSuite({ name: "memory", makeBackend: () => memory() });

import { memory } from "@metaxy/core";
import { videoScenario } from "./scenario.js";

/** The main job: the video pipeline, four passes, with a report per step. */
const backend = memory();
const runs = await videoScenario(() => backend, { videos: 200, log: console.log });
const last = runs[runs.length - 1];
console.log(
  `GPU calls in the last pass: transcript ${last.calls.transcript}, faces ${last.calls.faces}, caption ${last.calls.caption}`,
);

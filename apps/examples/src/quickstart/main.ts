import { quickstart } from "./quickstart.js";

/** The root README's "The idea in code", run on the in-memory backend. */
const { first, second } = await quickstart();
console.log("Metaxy quickstart (the root README's example) on memory()\n");
console.log(
  `1. two videos recorded:            ${first.new} new, ${first.stale} stale, ${first.orphaned} orphaned -> transcribed ${first.transcribed.join(", ")}`,
);
console.log(
  `2. v1 frames + v2 audio changed:   ${second.new} new, ${second.stale} stale, ${second.orphaned} orphaned -> transcribed ${second.transcribed.join(", ")}`,
);
console.log("   v1's new frames did not touch its transcript: the transcript's text field reads only audio.");

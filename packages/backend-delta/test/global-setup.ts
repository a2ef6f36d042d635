import { ensureDeltaRs } from "./delta-rs.js";

/** Creates the delta-rs venv once per machine ($METAXY_SERVICES_CACHE or ~/.cache/metaxy, /delta); fails loudly if it cannot. */
export default function setup(): void {
  ensureDeltaRs();
}

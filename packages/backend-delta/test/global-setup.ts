import { ensureDeltaRs } from "./delta-rs.js";
import { ensurePythonMetaxy } from "./python-metaxy.js";

/**
 * Creates, once per machine ($METAXY_SERVICES_CACHE or ~/.cache/metaxy, /delta), the delta-rs venv
 * and the Python Metaxy 0.1.11 venv the interoperability tests drive; fails loudly if it cannot.
 */
export default function setup(): void {
  ensureDeltaRs();
  ensurePythonMetaxy();
}

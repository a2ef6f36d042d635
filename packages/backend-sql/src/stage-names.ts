const STAGE_PREFIX = "metaxy_stage__";

/**
 * The two table names of a stage: `metaxy_stage__` + the stage id with `a`-`z`, `0`-`9` and `-`
 * kept and every other UTF-16 unit written `_xxxx` (hex), and the same with `__orphans`. Engines
 * may fold identifier case, so `Run-1` must not be `run-1`, and `run_1` must not be `run-1`
 * either: the mapping is injective, and no name contains `__` after the prefix, so a stage's
 * `__orphans` table is never another stage's table.
 */
export function stageTableNames(stageId: string): [staged: string, orphans: string] {
  let out = STAGE_PREFIX;
  for (let i = 0; i < stageId.length; i++) {
    const c = stageId.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d) out += stageId[i];
    else out += `_${c.toString(16).padStart(4, "0")}`;
  }
  return [out, `${out}__orphans`];
}

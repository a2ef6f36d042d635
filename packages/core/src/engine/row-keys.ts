import { compareStrings } from "../keys.js";

/** A stable map key for a tuple of column values (numbers and bigints of equal value collide on purpose). */
export function tupleKey(row: Record<string, unknown>, columns: readonly string[]): string {
  let out = "";
  for (const c of columns) {
    const v = row[c];
    let part: string;
    if (v === null || v === undefined) part = "\u0001null";
    else if (typeof v === "number" || typeof v === "bigint") part = "n" + String(v);
    else if (v instanceof Date) part = "d" + v.getTime();
    else if (typeof v === "string") part = "s" + v;
    else part = "j" + JSON.stringify(v);
    out += part + "\u0000";
  }
  return out;
}

/** Total order used for sorting values the way SQL ORDER BY does for one type. */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1; // NULLS LAST
  if (b === null || b === undefined) return -1;
  if ((typeof a === "number" || typeof a === "bigint") && (typeof b === "number" || typeof b === "bigint"))
    return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  return compareStrings(String(a), String(b));
}

export function compareByColumns(columns: readonly string[]) {
  return (a: Record<string, unknown>, b: Record<string, unknown>): number => {
    for (const c of columns) {
      const d = compareValues(a[c], b[c]);
      if (d !== 0) return d;
    }
    return 0;
  };
}

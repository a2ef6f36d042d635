import { ColumnCollisionError, ReservedColumnError } from "../errors.js";
import { isSystemColumn } from "./system-columns.js";

/**
 * Column names a user column may not take. Engines use them internally (the DuckDB compiler's
 * `__status`, `__cur__*`, ...; Python Metaxy's `__hash_*`), Metaxy adds them (`metaxy_*`, the
 * renamed upstream system columns `metaxy_*__<feature>`), or SQL engines define them on every
 * table (DuckDB's `rowid`, which a stored column would hide). Compared case-insensitively, as SQL
 * engines compare identifiers.
 */
const INTERNAL_PREFIX = "__";
const METAXY_PREFIX = "metaxy_";
const ENGINE_PSEUDO_COLUMNS = new Set(["rowid"]);

/** Why `name` cannot be a user column, or null when it can. */
export function reservedColumnReason(name: string): string | null {
  if (name.length === 0) return "a column name must not be empty";
  if (name.includes("\u0000")) return "a column name must not contain NUL characters";
  const lower = name.toLowerCase();
  if (lower.startsWith(INTERNAL_PREFIX))
    return `names starting with "${INTERNAL_PREFIX}" are the engines' own`;
  if (lower.startsWith(METAXY_PREFIX))
    return isSystemColumn(lower)
      ? "it is a system column, which Metaxy fills"
      : `names starting with "${METAXY_PREFIX}" are Metaxy's own`;
  if (ENGINE_PSEUDO_COLUMNS.has(lower)) return `"${lower}" is a column SQL engines define on every table`;
  return null;
}

/**
 * Throws ReservedColumnError when `column` (a schema key, id column, rename target, row key) is
 * reserved; `row` is the index of the row that carries it.
 */
export function assertUserColumn(feature: string, column: string, what = "column", row?: number): void {
  const reason = reservedColumnReason(column);
  if (reason === null) return;
  const where = row === undefined ? "" : ` (row ${row})`;
  throw new ReservedColumnError(
    `Feature "${feature}": ${what} "${column}"${where} is a reserved name: ${reason}`,
    row === undefined ? { feature, column } : { feature, column, row },
  );
}

/**
 * Remembers column names by their case-folded form: SQL engines treat `Name` and `name` as one
 * column, so a feature may not have both. (Every case variant of a system column is reserved.)
 */
export class ColumnNames {
  readonly #byFolded = new Map<string, string>();

  constructor(
    readonly feature: string,
    known: Iterable<string> = [],
  ) {
    for (const c of known) this.#byFolded.set(c.toLowerCase(), c);
  }

  /** Registers a user column: reserved names and case-only variants of a known column are rejected. */
  add(column: string, what = "column", row?: number): void {
    const folded = column.toLowerCase();
    const prev = this.#byFolded.get(folded);
    if (prev === column) return;
    assertUserColumn(this.feature, column, what, row);
    if (prev !== undefined)
      throw new ColumnCollisionError(
        `Feature "${this.feature}": columns "${prev}" and "${column}" differ only in case; SQL engines treat them as one column`,
        { feature: this.feature, column, columns: [prev, column], ...(row === undefined ? {} : { row }) },
      );
    this.#byFolded.set(folded, column);
  }
}

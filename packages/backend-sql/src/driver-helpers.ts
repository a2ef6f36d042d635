import { type ColumnType, IdempotencyConflictError } from "@metaxy/core";
import type { TableWrite } from "@metaxy/core/backend";
import type { EngineColumns } from "./driver.js";

/**
 * The columns a write adds to a table (`existing`, null when it is new) and the table's layout
 * after it, each added column spelled by `engineType`: what a driver checks and encodes the rows
 * against before any DDL, so that a rejected write changes no table.
 */
export function layoutAfterWrite(
  existing: EngineColumns | null,
  w: TableWrite,
  engineType: (type: ColumnType) => string,
): { added: Array<[string, ColumnType]>; columns: EngineColumns } {
  const have = new Set(existing?.map(([n]) => n));
  const added = Object.entries(w.schema).filter(([n]) => !have.has(n));
  return {
    added,
    columns: [...(existing ?? []), ...added.map(([n, t]): [string, string] => [n, engineType(t)])],
  };
}

/** The error for an idempotency key already used on `w`'s feature for other rows. */
export function idempotencyConflict(w: TableWrite): IdempotencyConflictError {
  const key = w.idempotency?.key ?? "";
  return new IdempotencyConflictError(
    `Idempotency key "${key}" was already used on feature "${w.feature}" for different rows`,
    { feature: w.feature, idempotencyKey: key },
  );
}

/** A scratch relation's columns; one placeholder column when there are none (no engine has empty tables). */
export function scratchColumns(schema: Readonly<Record<string, ColumnType>>): Array<[string, ColumnType]> {
  const cols = Object.entries(schema);
  return cols.length > 0 ? cols : [["__empty", "string"]];
}

/** A short rendering of a rejected value, for messages. */
export function describeValue(value: unknown): string {
  const text =
    value instanceof Date
      ? value.toISOString()
      : typeof value === "bigint"
        ? `${value}n`
        : (JSON.stringify(value) ?? String(value));
  return `${typeof value} ${text.length > 60 ? `${text.slice(0, 57)}...` : text}`;
}

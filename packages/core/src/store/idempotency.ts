import type { Row } from "../plan/resolve-update-plan.js";
import { hashString } from "../versioning/hash-algorithms.js";

/**
 * What an idempotency key stands for: the feature version and the set of rows handed to `write`
 * (order ignored). A retry that sends the same rows matches; different rows under a used key are
 * a conflict, never a silent no-op.
 */
export function writeFingerprint(featureVersion: string, rows: readonly Row[]): string {
  const hashes = rows.map((r) => hashString("sha256", canonical(r)));
  hashes.sort();
  return hashString("sha256", `${featureVersion}\n${hashes.join("\n")}`);
}

/** A stable text for a value: object keys sorted, dates and bigints tagged. */
function canonical(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (v instanceof Date) return `D${v.toISOString()}`;
  if (typeof v === "bigint") return `${v}n`;
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (typeof v === "object") {
    const keys = Object.keys(v as object)
      .filter((k) => (v as Row)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Row)[k])}`).join(",")}}`;
  }
  return JSON.stringify(v) ?? String(v);
}

import { createHash } from "node:crypto";
import type { HashAlgorithm } from "@metaxy/core";
import { createXXHash3 } from "hash-wasm";
import xxhash from "xxhash-wasm";

/**
 * The record-level hashes of SPEC §2.3 and §2.5, written from the SPEC alone: the testkit's
 * expected values never come from the code under test. Checked against the reference vectors.
 */

const xx = await xxhash();
const xxh3 = await createXXHash3(0, 0);
const utf8 = new TextEncoder();

/** Every record hash in the conformance cases is truncated to the default 8 characters. */
export const TRUNCATION = 8;

/** `trunc(hash(input))`: lowercase hex for md5/sha256, the unsigned decimal (seed 0) for xxhash. */
export function hashOf(
  algorithm: HashAlgorithm,
  input: string,
  truncation: number | null = TRUNCATION,
): string {
  let full: string;
  if (algorithm === "md5" || algorithm === "sha256") full = createHash(algorithm).update(input).digest("hex");
  else if (algorithm === "xxhash32") full = String(xx.h32Raw(utf8.encode(input), 0) >>> 0);
  else if (algorithm === "xxhash64") full = BigInt.asUintN(64, xx.h64Raw(utf8.encode(input), 0n)).toString();
  else if (algorithm === "xxh3_64") full = BigInt(`0x${xxh3.init().update(input).digest("hex")}`).toString();
  else throw new Error(`the testkit has no oracle for hash algorithm ${algorithm satisfies never}`);
  return truncation === null ? full : full.slice(0, truncation);
}

/** Code-point order (Python's and SQL's), which UTF-8 byte order is. */
export function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** A field key's struct key: its parts joined by `_` (`text/en` → `text_en`). */
export function structKey(fieldKey: string): string {
  return fieldKey.split("/").join("_");
}

/**
 * One downstream field's provenance: `field|code|parentFq|value|...` with the parents sorted by
 * their fully qualified key (`feature/key.field/key`).
 */
export function fieldProvenance(
  algorithm: HashAlgorithm,
  fieldKey: string,
  codeVersion: string,
  parents: ReadonlyArray<readonly [fqKey: string, value: string]>,
  truncation: number | null = TRUNCATION,
): string {
  const sorted = [...parents].sort((a, b) => compareCodePoints(a[0], b[0]));
  return hashOf(algorithm, [fieldKey, codeVersion, ...sorted.flat()].join("|"), truncation);
}

/** A record's provenance (or data version): its per-field values ordered by struct key, joined by `|`. */
export function recordProvenance(
  algorithm: HashAlgorithm,
  byField: Readonly<Record<string, string>>,
  truncation: number | null = TRUNCATION,
): string {
  const names = Object.keys(byField).sort(compareCodePoints);
  return hashOf(algorithm, names.map((n) => byField[n]).join("|"), truncation);
}

import { createHash } from "node:crypto";
import xxhash from "xxhash-wasm";
import { HashAlgorithmNotSupportedError, ValidationError } from "../errors.js";

/** Record-level hash algorithms (SPEC §2.3). Definition-level versions always use SHA-256. */
export const HASH_ALGORITHMS = ["xxhash64", "xxhash32", "md5", "sha256"] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

/** Minimum and default `hashTruncationLength` (SPEC §2.2). */
export const DEFAULT_HASH_TRUNCATION = 8;

const xx = await xxhash();
const encoder = new TextEncoder();

/** Full rendering: lowercase hex for md5/sha256, unsigned decimal for xxhash (seed 0). */
export function hashString(algorithm: HashAlgorithm, input: string): string {
  switch (algorithm) {
    case "md5":
      return createHash("md5").update(input, "utf8").digest("hex");
    case "sha256":
      return createHash("sha256").update(input, "utf8").digest("hex");
    case "xxhash64":
      return xx.h64Raw(encoder.encode(input), 0n).toString(10);
    case "xxhash32":
      return (xx.h32Raw(encoder.encode(input), 0) >>> 0).toString(10);
    default:
      throw new HashAlgorithmNotSupportedError(`Hash algorithm "${algorithm}" is not supported`, {
        algorithm,
      });
  }
}

/** `trunc(hash(input))`; `truncation: null` keeps the whole rendering. */
export function truncatedHash(algorithm: HashAlgorithm, input: string, truncation: number | null): string {
  const full = hashString(algorithm, input);
  return truncation === null ? full : full.slice(0, truncation);
}

export function validateTruncation(length: number | null | undefined): number {
  const n = length ?? DEFAULT_HASH_TRUNCATION;
  if (!Number.isInteger(n) || n < DEFAULT_HASH_TRUNCATION)
    throw new ValidationError(
      `hashTruncationLength must be an integer >= ${DEFAULT_HASH_TRUNCATION}, got ${length}`,
      { hashTruncationLength: length },
    );
  return n;
}

/** Incremental SHA-256 over concatenated strings, truncated: the definition-level recipe. */
export function sha256Parts(parts: Iterable<string>, truncation: number): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p, "utf8");
  return h.digest("hex").slice(0, truncation);
}

export function assertHashAlgorithm(value: string): asserts value is HashAlgorithm {
  if (!(HASH_ALGORITHMS as readonly string[]).includes(value))
    throw new HashAlgorithmNotSupportedError(
      `Unknown hash algorithm "${value}"; expected one of ${HASH_ALGORITHMS.join(", ")}`,
      { algorithm: value },
    );
}

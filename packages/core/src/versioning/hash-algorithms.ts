import { type IHasher, createXXHash3 } from "hash-wasm";
import xxhash from "xxhash-wasm";
import { HashAlgorithmNotSupportedError, HashingNotReadyError, ValidationError } from "../errors.js";
import { md5Hex } from "./md5.js";
import { sha256Hex } from "./sha256.js";

/** Record-level hash algorithms (SPEC §2.3). Definition-level versions always use SHA-256. */
/** `xxh3_64` is XXH3, 64-bit, seed 0 (Python Metaxy 0.1.11), rendered like xxhash64. */
export const HASH_ALGORITHMS = ["xxhash64", "xxhash32", "xxh3_64", "md5", "sha256"] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

/** Minimum and default `hashTruncationLength` (SPEC §2.2). */
export const DEFAULT_HASH_TRUNCATION = 8;

const encoder = new TextEncoder();

interface NodeCrypto {
  createHash(algorithm: string): {
    update(data: string, encoding: "utf8"): NodeCryptoHash;
    digest(encoding: "hex"): string;
  };
}
type NodeCryptoHash = ReturnType<NodeCrypto["createHash"]>;

// On Node (>= 20.16) its native digests are several times faster than the plain-JS ones. They are
// looked up at run time, not imported, so that bundlers for workflow sandboxes and browsers see no
// `node:` import; where there is no `process.getBuiltinModule` the plain-JS digests (same output) run.
const nodeCrypto = (
  globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }
).process?.getBuiltinModule?.("node:crypto") as NodeCrypto | undefined;

type XXHash = Awaited<ReturnType<typeof xxhash>>;
let xx: XXHash | undefined;
let xxh3: IHasher | undefined;
let xxLoading: Promise<void> | undefined;

/**
 * Loads the WebAssembly xxhash (once; later calls return at once). `MetadataStore.open` awaits it
 * for stores that hash with xxhash; call it yourself before computing xxhash64/xxhash32
 * or xxh3_64 hashes outside a store (`hashString`, `fieldProvenance`, ...). md5 and sha256 need
 * no set-up.
 */
export function initHashing(): Promise<void> {
  xxLoading ??= Promise.all([xxhash(), createXXHash3(0, 0)]).then(
    ([api, h3]) => {
      xx = api;
      xxh3 = h3;
    },
    (e: unknown) => {
      xxLoading = undefined;
      throw e;
    },
  );
  return xxLoading;
}

export function isXxhash(algorithm: HashAlgorithm): algorithm is "xxhash64" | "xxhash32" | "xxh3_64" {
  return algorithm === "xxhash64" || algorithm === "xxhash32" || algorithm === "xxh3_64";
}

function xxhashApi(algorithm: HashAlgorithm): XXHash {
  if (xx) return xx;
  throw new HashingNotReadyError(
    `Hash algorithm "${algorithm}" is not loaded yet: \`await initHashing()\` first (opening a MetadataStore that uses it does so)`,
    { algorithm },
  );
}

/** Full rendering: lowercase hex for md5/sha256, unsigned decimal for xxhash (seed 0). */
export function hashString(algorithm: HashAlgorithm, input: string): string {
  switch (algorithm) {
    case "md5":
      return nodeCrypto
        ? nodeCrypto.createHash("md5").update(input, "utf8").digest("hex")
        : md5Hex(encoder.encode(input));
    case "sha256":
      return nodeCrypto
        ? nodeCrypto.createHash("sha256").update(input, "utf8").digest("hex")
        : sha256Hex(encoder.encode(input));
    case "xxhash64":
      return xxhashApi(algorithm).h64Raw(encoder.encode(input), 0n).toString(10);
    case "xxhash32":
      return (xxhashApi(algorithm).h32Raw(encoder.encode(input), 0) >>> 0).toString(10);
    case "xxh3_64": {
      xxhashApi(algorithm);
      const h = xxh3 as IHasher;
      h.init();
      h.update(input);
      return BigInt(`0x${h.digest("hex")}`).toString(10);
    }
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

/** SHA-256 over concatenated strings, truncated: the definition-level recipe. */
export function sha256Parts(parts: Iterable<string>, truncation: number): string {
  if (nodeCrypto) {
    const h = nodeCrypto.createHash("sha256");
    for (const p of parts) h.update(p, "utf8");
    return h.digest("hex").slice(0, truncation);
  }
  let joined = "";
  for (const p of parts) joined += p;
  return sha256Hex(encoder.encode(joined)).slice(0, truncation);
}

export function assertHashAlgorithm(value: string): asserts value is HashAlgorithm {
  if (!(HASH_ALGORITHMS as readonly string[]).includes(value))
    throw new HashAlgorithmNotSupportedError(
      `Unknown hash algorithm "${value}"; expected one of ${HASH_ALGORITHMS.join(", ")}`,
      { algorithm: value },
    );
}

import { createHash } from "node:crypto";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { HashingNotReadyError } from "../errors.js";
import * as node from "./hash-algorithms.js";
import { md5Hex } from "./md5.js";
import { sha256Hex } from "./sha256.js";

const encoder = new TextEncoder();
const nodeDigest = (algorithm: string, s: string) => createHash(algorithm).update(s, "utf8").digest("hex");

let copies = 0;

/** A fresh copy of the module, loaded where `process.getBuiltinModule` does not exist (as in a sandbox). */
async function withoutNodeCrypto(): Promise<typeof node> {
  vi.stubGlobal("process", { ...process, getBuiltinModule: undefined });
  try {
    return await import(/* @vite-ignore */ `./hash-algorithms.js?plain=${++copies}`);
  } finally {
    vi.unstubAllGlobals();
  }
}

afterEach(() => vi.unstubAllGlobals());

describe("plain-JS digests", () => {
  // Lengths around the 55/56- and 64-byte padding boundaries, plus multi-block inputs.
  const lengths = [0, 1, 2, 3, 31, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 70_000];

  it.each(lengths)("equal node:crypto for %i bytes", (n) => {
    const s = "abcdefghij".repeat(Math.ceil(n / 10)).slice(0, n);
    expect(sha256Hex(encoder.encode(s))).toBe(nodeDigest("sha256", s));
    expect(md5Hex(encoder.encode(s))).toBe(nodeDigest("md5", s));
  });

  it("equal node:crypto on arbitrary unicode strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), (s) => {
        expect(sha256Hex(encoder.encode(s))).toBe(nodeDigest("sha256", s));
        expect(md5Hex(encoder.encode(s))).toBe(nodeDigest("md5", s));
      }),
      { numRuns: 2000 },
    );
  });

  it("the module without node:crypto hashes exactly as with it", async () => {
    const plain = await withoutNodeCrypto();
    await Promise.all([node.initHashing(), plain.initHashing()]);
    fc.assert(
      fc.property(
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.array(fc.string(), { maxLength: 5 }),
        (s, parts) => {
          for (const algorithm of node.HASH_ALGORITHMS)
            expect(plain.hashString(algorithm, s)).toBe(node.hashString(algorithm, s));
          expect(plain.sha256Parts(parts, 64)).toBe(node.sha256Parts(parts, 64));
          expect(node.sha256Parts(parts, 64)).toBe(nodeDigest("sha256", parts.join("")));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("xxhash set-up", () => {
  it("is lazy: hashing with xxhash before initHashing() is a typed error; md5 and sha256 need none", async () => {
    const fresh = await withoutNodeCrypto();
    for (const algorithm of ["xxhash64", "xxhash32"] as const) {
      const err = (() => {
        try {
          fresh.hashString(algorithm, "x");
        } catch (e) {
          return e;
        }
      })();
      expect(HashingNotReadyError.isInstance(err)).toBe(true);
      expect(err).toMatchObject({ code: "HASHING_NOT_READY", details: { algorithm } });
      expect((err as Error).message).toContain("initHashing()");
    }
    expect(fresh.hashString("md5", "x")).toBe(nodeDigest("md5", "x"));
    expect(fresh.hashString("sha256", "x")).toBe(nodeDigest("sha256", "x"));

    const first = fresh.initHashing();
    expect(fresh.initHashing()).toBe(first); // loaded once
    await first;
    expect(fresh.hashString("xxhash64", "")).toBe("17241709254077376921"); // XXH64 of "" (seed 0)
    expect(fresh.hashString("xxhash32", "")).toBe("46947589"); // XXH32 of "" (seed 0)
  });
});

describe("xxh3_64", () => {
  // Values printed by Python Metaxy 0.1.11's polars engine (`pl.col(s).nchash.xxh3_64()`): every
  // XXH3 length class (0, 1-3, 17-128, 129-240, > 240 bytes).
  const python: [string, string][] = [
    ["", "3244421341483603138"],
    ["abc", "8696274497037089104"],
    ["a".repeat(20), "15172519865468127760"],
    ["b".repeat(200), "2329709516839955519"],
    ["c".repeat(300), "10239098504205202334"],
    ["hello world", "15296390279056496779"],
  ];

  it.each(python)("renders XXH3-64 (seed 0) of %j as Python Metaxy does", async (input, expected) => {
    await node.initHashing();
    expect(node.hashString("xxh3_64", input)).toBe(expected);
    expect(node.truncatedHash("xxh3_64", input, 8)).toBe(expected.slice(0, 8));
  });
});

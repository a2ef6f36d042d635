import { InvalidKeyError, TableNameCollisionError } from "./errors.js";

/**
 * Table names starting with this belong to the store itself: system tables (`metaxy_system__*`),
 * and whatever backends keep next to feature tables (stages, idempotency keys, scratch space).
 */
export const RESERVED_TABLE_PREFIX = "metaxy_";

const FIRST_PART = /^[a-z_][a-z0-9_-]*$/;
const OTHER_PART = /^[a-z0-9_][a-z0-9_-]*$/;

export type KeyInput =
  | string
  | readonly string[]
  | Key
  | { key: Key }
  | { root: string[] }
  | { parts: string[] };

/** Shared behaviour of feature and field keys (SPEC §1.1): an immutable tuple of validated parts. */
abstract class Key {
  readonly parts: readonly string[];

  protected constructor(input: KeyInput, kind: string) {
    const parts = toParts(input, kind);
    validateParts(parts, kind);
    this.parts = Object.freeze([...parts]);
  }

  toString(): string {
    return this.parts.join("/");
  }
  toJSON(): string {
    return this.toString();
  }
  /** `video/raw-x` → `video__raw_x`. */
  get tableName(): string {
    return this.parts.map((p) => p.replaceAll("-", "_")).join("__");
  }
  /** Struct / map entry name: `audio/french` → `audio_french`. */
  toStructKey(): string {
    return this.parts.join("_");
  }
  /** Suffix of renamed upstream system columns: `video/raw` → `__video_raw`. */
  toColumnSuffix(): string {
    return "__" + this.parts.join("_");
  }
  equals(other: Key): boolean {
    return this.toString() === other.toString();
  }
  compare(other: Key): number {
    return compareParts(this.parts, other.parts);
  }
}

function toParts(input: KeyInput, kind: string): readonly string[] {
  if (typeof input === "string") return input.split("/");
  if (Array.isArray(input)) return input as readonly string[];
  if (input instanceof Key) return input.parts;
  if (input && typeof input === "object") {
    if ("key" in input && input.key instanceof Key) return input.key.parts;
    if ("root" in input && Array.isArray(input.root)) return input.root;
    if ("parts" in input && Array.isArray(input.parts)) return input.parts;
  }
  throw new InvalidKeyError(`Cannot build a ${kind} from ${JSON.stringify(input)}`, { key: String(input) });
}

function validateParts(parts: readonly string[], kind: string): void {
  const shown = parts.join("/");
  if (parts.length === 0) throw new InvalidKeyError(`${kind} must not be empty`, { key: shown });
  parts.forEach((part, i) => {
    if (typeof part !== "string" || part.length === 0)
      throw new InvalidKeyError(`${kind} "${shown}" has an empty part`, { key: shown });
    if (part.includes("/")) throw new InvalidKeyError(`${kind} part "${part}" contains "/"`, { key: shown });
    if (part.includes("__"))
      throw new InvalidKeyError(`${kind} part "${part}" of "${shown}" contains "__"`, { key: shown });
    const pattern = i === 0 ? FIRST_PART : OTHER_PART;
    if (!pattern.test(part))
      throw new InvalidKeyError(
        `${kind} part "${part}" of "${shown}" is invalid: use lowercase letters, digits, "_" and "-" (${pattern})`,
        { key: shown },
      );
  });
}

export function compareParts(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * Code-point string comparison, as Python's `sorted` and SQL engines (UTF-8 byte order) do; never
 * `localeCompare`. JS `<` compares UTF-16 code units, which disagrees when an astral character
 * (a surrogate pair) meets one in U+E000..U+FFFF.
 */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate && (xSurrogate ? y : x) >= 0xe000) return xSurrogate ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

export class FeatureKey extends Key {
  constructor(input: KeyInput) {
    super(input, "FeatureKey");
  }
  static from(input: KeyInput | FeatureKey): FeatureKey {
    return input instanceof FeatureKey ? input : new FeatureKey(input);
  }
  /** System keys (`metaxy-system/...`) name the store's own tables. */
  get isSystem(): boolean {
    return this.parts[0] === "metaxy-system";
  }
  /** Its table lies in the store's namespace (`metaxy_*`): a system key, or a key aliasing one (`metaxy_system/...`). */
  get isReserved(): boolean {
    return this.tableName.startsWith(RESERVED_TABLE_PREFIX);
  }
}

/** Rejects a feature key whose table lies in the store's own namespace: a user feature must never address it. */
export function assertUserFeatureKey(key: FeatureKey): void {
  if (!key.isReserved) return;
  const feature = key.toString();
  throw new TableNameCollisionError(
    `Feature key "${feature}" maps to table "${key.tableName}", in the namespace Metaxy keeps for its own tables ("${RESERVED_TABLE_PREFIX}*"). Choose a key whose first part is not "metaxy" and does not start with "metaxy_" or "metaxy-".`,
    { feature, table: key.tableName },
  );
}

export class FieldKey extends Key {
  constructor(input: KeyInput) {
    super(input, "FieldKey");
  }
  static from(input: KeyInput | FieldKey): FieldKey {
    return input instanceof FieldKey ? input : new FieldKey(input);
  }
}

/** Fully qualified field key `feature.field`, e.g. `video/raw.audio/french`. */
export class FQFieldKey {
  constructor(
    readonly feature: FeatureKey,
    readonly field: FieldKey,
  ) {}
  toString(): string {
    return `${this.feature.toString()}.${this.field.toString()}`;
  }
}

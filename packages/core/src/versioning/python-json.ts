import { ValidationError } from "../errors.js";

/**
 * `json.dumps(value, sort_keys=True)` exactly as CPython renders it: `", "` and `": "`
 * separators, keys sorted by code point at every level, non-ASCII escaped as `\uXXXX`
 * (astral characters as surrogate pairs). Spec and definition versions hash this text.
 */
export function pythonJsonDumps(value: unknown): string {
  return dumps(value, true);
}

/**
 * `json.dumps(value)` without `sort_keys`: the same rendering, keys in insertion order. Python
 * Metaxy stores `feature_spec` and `feature_schema` of a graph snapshot in this form.
 */
export function pythonJsonDumpsUnsorted(value: unknown): string {
  return dumps(value, false);
}

function dumps(value: unknown, sortKeys: boolean): string {
  if (value === null || value === undefined) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "number") return pythonNumber(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "string") return pythonString(value);
  if (Array.isArray(value)) return "[" + value.map((v) => dumps(v, sortKeys)).join(", ") + "]";
  if (typeof value === "object") {
    if (typeof (value as any).toJSON === "function") return dumps((value as any).toJSON(), sortKeys);
    const keys = Object.keys(value).filter((k) => (value as any)[k] !== undefined);
    if (sortKeys) keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return (
      "{" + keys.map((k) => `${pythonString(k)}: ${dumps((value as any)[k], sortKeys)}`).join(", ") + "}"
    );
  }
  throw new ValidationError(`Cannot serialise ${typeof value} as JSON`, { type: typeof value });
}

function pythonNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Number.POSITIVE_INFINITY) return "Infinity";
  if (n === Number.NEGATIVE_INFINITY) return "-Infinity";
  // JS cannot tell 1 from 1.0: integral values render as Python ints do.
  if (Number.isInteger(n)) return BigInt(n).toString();
  const abs = Math.abs(n);
  // Python's float repr: shortest round-trip digits; fixed notation in [1e-4, 1e16).
  if (abs >= 1e-4 && abs < 1e16) return String(n);
  const [mantissa, exponent] = n.toExponential().split("e");
  const sign = exponent.startsWith("-") ? "-" : "+";
  return `${mantissa}e${sign}${exponent.replace(/^[+-]/, "").padStart(2, "0")}`;
}

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

function pythonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const code = s.charCodeAt(i);
    const esc = ESCAPES[ch];
    if (esc) out += esc;
    else if (code < 0x20 || code > 0x7e) out += "\\u" + code.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

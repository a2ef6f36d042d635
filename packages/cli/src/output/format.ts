/** `2024-05-01 12:34:56` in UTC (SPEC §6 `history`). */
export function formatTimestamp(d: Date | string | number): string {
  const date = d instanceof Date ? d : new Date(d);
  if (Number.isNaN(date.getTime())) return String(d);
  return date.toISOString().replace("T", " ").slice(0, 19);
}

export function toIso(d: unknown): string | null {
  if (d === null || d === undefined) return null;
  const date = d instanceof Date ? d : new Date(d as string);
  return Number.isNaN(date.getTime()) ? String(d) : date.toISOString();
}

/** A version hash shortened to `length` characters; 0 keeps it whole. */
export function shortHash(hash: string, length: number): string {
  return length > 0 ? hash.slice(0, length) : hash;
}

export function plural(n: number, word: string, pluralWord = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralWord}`;
}

export function percent(p: number | null): string {
  if (p === null) return "no input";
  const rounded = Math.floor(p);
  return `${rounded === 100 && p < 100 ? 99 : rounded}%`;
}

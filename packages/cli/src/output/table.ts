export type Align = "left" | "right";

export interface Column {
  header: string;
  align?: Align;
}

/** A plain-text table: header, dashed rule, rows; columns padded to their widest cell. */
export function renderTable(
  columns: readonly (Column | string)[],
  rows: readonly (readonly unknown[])[],
): string {
  const cols = columns.map((c) => (typeof c === "string" ? { header: c, align: "left" as Align } : c));
  const cells = rows.map((r) => cols.map((_, i) => cellText(r[i])));
  const widths = cols.map((c, i) => Math.max(width(c.header), ...cells.map((r) => width(r[i]))));
  const line = (values: string[]) =>
    values
      .map((v, i) => (cols[i].align === "right" ? padStart(v, widths[i]) : padEnd(v, widths[i])))
      .join("  ")
      .trimEnd();
  return [
    line(cols.map((c) => c.header)),
    line(widths.map((w) => "-".repeat(w))),
    ...cells.map((r) => line(r)),
  ].join("\n");
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return "-";
  if (Array.isArray(v)) return v.length === 0 ? "-" : v.join(", ");
  return String(v);
}

/** Display width: code points (the symbols used here are single-width). */
function width(s: string): number {
  return [...s].length;
}
function padEnd(s: string, w: number): string {
  return s + " ".repeat(Math.max(0, w - width(s)));
}
function padStart(s: string, w: number): string {
  return " ".repeat(Math.max(0, w - width(s))) + s;
}

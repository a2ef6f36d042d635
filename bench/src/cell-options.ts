/** The command-line options of a cell process (run-cell.ts, clickhouse-cell.ts), as main.ts passes them. */
export const CELL_OPTIONS = {
  mode: { type: "string" },
  graph: { type: "string" },
  n: { type: "string" },
  phase: { type: "string" },
  rounds: { type: "string", default: "10" },
  data: { type: "string" },
  template: { type: "string" },
  tmp: { type: "string" },
  result: { type: "string" },
} as const;

/** The parsed values every cell process uses. */
export function cellArgs(values: { [K in keyof typeof CELL_OPTIONS]?: string }) {
  return {
    graphName: values.graph as import("./graphs.js").GraphName,
    n: Number(values.n),
    phase: values.phase as "new" | "stale",
    rounds: Number(values.rounds),
    dataDir: values.data!,
    template: values.template!,
  };
}

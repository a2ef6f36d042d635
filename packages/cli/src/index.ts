export { main, createProgram, processIo } from "./main.js";
export { Context, type Io, type GlobalOptions } from "./context.js";
export { CliError, errorPayload, type CliErrorCode } from "./errors.js";
export { estimateCascade, type CascadeInput, type CascadeResult } from "./analysis/cascade.js";
export {
  renderMermaid,
  renderGraphviz,
  renderTerminal,
  graphJson,
  type RenderOptions,
} from "./output/graph-render.js";

/** The Python peer itself: the venv has Python Metaxy 0.1.11 and it sees the shared graph. */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { PYTHON, runPython } from "./peer.js";

describe("Python Metaxy peer", () => {
  it("runs metaxy 0.1.11 with the pinned duckdb", () => {
    const versions = execFileSync(
      PYTHON,
      [
        "-c",
        "import importlib.metadata as m; print(m.version('metaxy'), m.version('duckdb'), m.version('pydantic'))",
      ],
      { encoding: "utf8" },
    ).trim();
    expect(versions).toBe("0.1.11 1.5.6 2.14.4");
  });

  it("defines the three features of the shared graph", () => {
    const [defs] = runPython({ db: ":memory:", hash: "md5", ops: [{ op: "definitions" }] });
    expect(Object.keys(defs.features).sort()).toEqual(["interop/clip", "interop/scene", "interop/video"]);
    expect(defs.features["interop/video"].feature_class_path).toBe("interop_graph.Video");
  });
});

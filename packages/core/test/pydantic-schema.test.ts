/**
 * The feature schema is Pydantic's JSON schema of the Python Metaxy class (checked against the
 * real Pydantic 2.14 in packages/python-interop); these pin the rules without Python.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineFeature } from "../src/spec/define-feature.js";
import { defaultPythonClassName, pydanticJsonSchema, pythonTitle } from "../src/spec/pydantic-schema.js";

describe("Pydantic JSON schema of a feature", () => {
  it("titles columns as str.title() with spaces", () => {
    expect(pythonTitle("n_frames")).toBe("N Frames");
    expect(pythonTitle("k2x_y")).toBe("K2X Y");
    expect(pythonTitle("HTTPCode")).toBe("Httpcode");
    expect(pythonTitle("_private_")).toBe("Private");
  });

  it("names the class after the key unless told", () => {
    expect(defaultPythonClassName("video/raw_clips")).toBe("VideoRawClips");
    expect(defineFeature({ key: "video/raw", idColumns: ["id"] }).featureSchema.title).toBe("VideoRaw");
    const named = defineFeature({ key: "video/raw", idColumns: ["id"], pythonClass: "app.features.Raw" });
    expect(named.featureSchema.title).toBe("Raw");
    expect(named.pythonClass).toBe("app.features.Raw");
    expect(() => defineFeature({ key: "video/raw", idColumns: ["id"], pythonClass: "app:Raw" })).toThrow(
      /pythonClass/,
    );
  });

  it("required, nullable, defaults and key order as Pydantic renders them", () => {
    const schema = pydanticJsonSchema(
      z.object({
        id: z.string(),
        n: z.int().nullable(),
        at: z.date().nullish(),
        score: z.number().default(1.5),
      }),
      { title: "T" },
    );
    const props = schema.properties as Record<string, unknown>;
    expect(Object.keys(schema)).toEqual(["additionalProperties", "properties", "required", "title", "type"]);
    expect(Object.keys(props).slice(0, 1)).toEqual(["metaxy_provenance_by_field"]);
    expect(Object.keys(props).slice(-4)).toEqual(["id", "n", "at", "score"]);
    expect(props.n).toEqual({ anyOf: [{ type: "integer" }, { type: "null" }], title: "N" });
    expect(props.at).toEqual({
      anyOf: [{ format: "date-time", type: "string" }, { type: "null" }],
      default: null,
      title: "At",
    });
    expect(props.score).toEqual({ default: 1.5, title: "Score", type: "number" });
    expect(schema.required).toEqual(["id", "n"]);
  });
});

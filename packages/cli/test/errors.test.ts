import { MetadataStoreError, MetaxyError, TableNotFoundError, ValidationError } from "@metaxy/core";
import { describe, expect, test } from "vitest";
import { CliError, errorPayload } from "../src/errors.js";

describe("CliError", () => {
  test("is a MetaxyError with its own marker", () => {
    const e = new CliError("INVALID_ARGUMENT", "--limit must be a non-negative integer", { flag: "--limit" });
    expect(MetaxyError.isInstance(e)).toBe(true);
    expect(CliError.isInstance(e)).toBe(true);
    expect(ValidationError.isInstance(e)).toBe(false);
    expect(CliError.isInstance(new ValidationError("x"))).toBe(false);
    expect(e).toMatchObject({ name: "CliError", code: "INVALID_ARGUMENT", details: { flag: "--limit" } });
    expect(errorPayload(e)).toEqual({
      code: "INVALID_ARGUMENT",
      message: "--limit must be a non-negative integer",
      hint: undefined,
      details: { flag: "--limit" },
    });
  });

  test("a missing table is recognised by its class, not by its message", () => {
    const missing = errorPayload(new TableNotFoundError("no such thing", { table: "a__b" }));
    expect(missing).toMatchObject({ code: "TABLE_NOT_FOUND", hint: expect.stringContaining("write to it") });
    expect(errorPayload(new MetadataStoreError('Table "a__b" does not exist')).hint).toBeUndefined();
  });
});

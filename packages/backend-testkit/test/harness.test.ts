import { type Backend, type BackendCapabilities, memory } from "@metaxy/core";
import { describe, expect, it } from "vitest";
import { Harness } from "../src/harness.js";

/** memory() declaring other capabilities. */
function declaring(capabilities: Partial<BackendCapabilities>): Backend {
  const backend = memory();
  const declared = { ...backend.capabilities, ...capabilities };
  return new Proxy(backend, {
    get: (target, p) => {
      if (p === "capabilities") return declared;
      const v = Reflect.get(target, p, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

describe("capability gating", () => {
  it("skips a case only when the backend does not declare what it needs", async () => {
    const h = new Harness({
      name: "limited",
      makeBackend: () => declaring({ atomicWrites: false, hashAlgorithms: ["md5"] }),
    });
    const notes: string[] = [];
    const context = { skip: (note?: string) => void notes.push(note ?? "") };
    expect(await h.backendWith(context, (c) => c.atomicWrites, "atomicWrites")).toBeNull();
    expect(await h.backendWith(context, (c) => c.hashAlgorithms.includes("xxhash32"), "xxhash32")).toBeNull();
    expect(notes).toEqual(["limited does not declare atomicWrites", "limited does not declare xxhash32"]);
    const md5 = await h.backendWith(context, (c) => c.hashAlgorithms.includes("md5"), "md5");
    expect(md5?.capabilities.hashAlgorithms).toEqual(["md5"]);
    expect(notes).toHaveLength(2);
    // a runner without `skip`: the case gets null and returns early
    expect(await h.backendWith({}, (c) => c.atomicWrites, "atomicWrites")).toBeNull();
    await h.teardown();
  });
});

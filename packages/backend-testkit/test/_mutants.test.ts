import { type Backend, type ResolveUpdatePlan, memory, readLatest } from "@metaxy/core";
import { backendConformanceSuite } from "../src/index.js";

type Mutate = (b: Backend) => Backend;
const wrap =
  (patch: (inner: Backend) => Partial<Backend>): Mutate =>
  (inner) => {
    const p = patch(inner);
    return new Proxy(inner, {
      get: (t, k) => (k in p ? (p as any)[k] : ((t as any)[k]?.bind?.(t) ?? (t as any)[k])),
    });
  };
const planPatch = (f: (p: ResolveUpdatePlan) => ResolveUpdatePlan) =>
  wrap((inner) => ({ resolveUpdate: (plan: ResolveUpdatePlan) => inner.resolveUpdate(f(plan)) }));

const mutants: Record<string, Mutate> = {
  noTruncation: planPatch((p) => ({ ...p, truncation: null })),
  optionalAsRequired: planPatch((p) =>
    p.expected.kind === "upstreams"
      ? {
          ...p,
          expected: {
            ...p.expected,
            upstreams: p.expected.upstreams.map((u) => ({ ...u, optional: false })),
          },
        }
      : p,
  ),
  noStaleness: planPatch((p) => ({ ...p, stalenessPredicates: [] })),
  noCollapse: planPatch((p) => ({ ...p, collapseCurrent: false })),
  noReduce: planPatch((p) => ({ ...p, reduceExpected: false })),
  aggStorageOrder: planPatch((p) =>
    p.expected.kind === "upstreams"
      ? {
          ...p,
          expected: { ...p.expected, upstreams: p.expected.upstreams.map((u) => ({ ...u, idColumns: [] })) },
        }
      : p,
  ),
  noDepFilters: planPatch((p) =>
    p.expected.kind === "upstreams"
      ? {
          ...p,
          expected: { ...p.expected, upstreams: p.expected.upstreams.map((u) => ({ ...u, filters: [] })) },
        }
      : p,
  ),
  noUpstreamRuntimeFilters: planPatch((p) =>
    p.expected.kind === "upstreams"
      ? {
          ...p,
          expected: {
            ...p.expected,
            upstreams: p.expected.upstreams.map((u) => ({ ...u, read: { ...u.read, filters: [] } })),
          },
        }
      : p,
  ),
  noTargetFilters: planPatch((p) => ({ ...p, current: { ...p.current, filters: [] } })),
  wrongFieldOrder: planPatch((p) => ({
    ...p,
    fields: p.fields.map((f) => ({ ...f, parents: [...f.parents].reverse() })),
  })),
  codeVersionIgnored: planPatch((p) => ({ ...p, fields: p.fields.map((f) => ({ ...f, codeVersion: "x" })) })),
  ignoreVersionFilter: planPatch((p) =>
    p.expected.kind === "upstreams"
      ? {
          ...p,
          expected: {
            ...p.expected,
            upstreams: p.expected.upstreams.map((u) => ({ ...u, read: { ...u.read, featureVersion: null } })),
          },
        }
      : p,
  ),
  readNoDedup: wrap((inner) => ({
    read: (q, n) => inner.read({ ...q, latestOnly: false }, n),
    count: (q) => inner.count({ ...q, latestOnly: false }),
  })),
  readFiltersBeforeDedup: wrap((inner) => ({
    read: async function* (q, n) {
      const all: any[] = [];
      for await (const b of inner.read(
        { ...q, latestOnly: false, includeSoftDeleted: true, filters: [], columns: null },
        1e9,
      ))
        all.push(...b);
      const pre = readLatest(all, { ...q, latestOnly: false, includeSoftDeleted: true, columns: null });
      yield readLatest(pre, { ...q, filters: [] });
    },
  })),
  noIdempotency: wrap((inner) => ({ append: (t, s, r) => inner.append(t, s, r) })),
  hardDeleteCountZero: wrap((inner) => ({
    deleteRows: async (t, w) => {
      await inner.deleteRows(t, w);
      return 0;
    },
  })),
  deleteIgnoresWhere: wrap((inner) => ({ deleteRows: (t) => inner.deleteRows(t, null) })),
  stageUnstable: wrap((inner) => ({
    resolveUpdate: async (plan) => {
      const src = await inner.resolveUpdate(plan);
      return {
        ...src,
        stage: async (id: string) => {
          const s = await src.stage(id);
          return { ...s, page: async (o: number, l: number) => s.page(o + (o > 0 ? 1 : 0), l) };
        },
      };
    },
  })),
  progressWrong: wrap((inner) => ({
    resolveUpdate: async (plan) => {
      const src = await inner.resolveUpdate(plan);
      return {
        ...src,
        progress: async () => {
          const p = await src.progress();
          return p && { ...p, missing: Math.max(0, p.missing - 1) };
        },
      };
    },
  })),
  noSoftDeleteFilter: wrap((inner) => ({
    read: (q, n) => inner.read({ ...q, includeSoftDeleted: true }, n),
  })),
};

const which = process.env.MUTANT!;
backendConformanceSuite({
  name: `mutant ${which}`,
  makeBackend: () => mutants[which](memory()),
  numRuns: 25,
});

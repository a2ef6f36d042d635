/** Type-level tests of the data path: run by `vitest --typecheck` (part of `npm test`). */
import { describe, expectTypeOf, it } from "vitest";
import { z } from "zod";
import {
  type FeatureDefinition,
  type FeatureReadRow,
  type FieldVersions,
  type Increment,
  type IncrementRow,
  Lineage,
  type MetadataStore,
  type StagedIncrement,
  defineFeature,
} from "../src/index.js";

const raw = defineFeature({
  key: "video/raw",
  idColumns: ["sample_uid"],
  fields: ["audio", "frames"],
  schema: z.object({ sample_uid: z.string(), path: z.string(), duration: z.number().optional() }),
});
const transcript = defineFeature({
  key: "video/transcript",
  idColumns: ["sample_uid"],
  deps: [raw],
  fields: [{ key: "text", deps: [{ feature: raw, fields: ["audio"] }] }],
  schema: z.object({ sample_uid: z.string(), text: z.string() }),
});
const schemaless = defineFeature({ key: "video/tags", idColumns: ["sample_uid"], deps: [raw] });

declare const store: MetadataStore;
const provenance = { metaxy_provenance_by_field: { audio: "a", frames: "f" } };

describe("write rows", () => {
  it("take the schema's input columns and require metaxy_provenance_by_field", () => {
    void store.write(raw, [{ sample_uid: "s0", path: "/v/0.mp4", ...provenance }]);
    void store.write(raw, [{ sample_uid: "s0", path: "/v/0.mp4", duration: 1.5, ...provenance }]);
    // @ts-expect-error no metaxy_provenance_by_field
    void store.write(raw, [{ sample_uid: "s0", path: "/v/0.mp4" }]);
    // @ts-expect-error path is a string
    void store.write(raw, [{ sample_uid: "s0", path: 1, ...provenance }]);
    // @ts-expect-error a column the schema does not have
    void store.write(raw, [{ sample_uid: "s0", path: "p", colour: "red", ...provenance }]);
    // @ts-expect-error per-field versions are strings
    void store.write(raw, [{ sample_uid: "s0", path: "p", metaxy_provenance_by_field: { audio: 1 } }]);
  });

  it("accept the optional system columns a write would otherwise fill", () => {
    void store.write(raw, [
      {
        sample_uid: "s0",
        path: "p",
        ...provenance,
        metaxy_data_version_by_field: { audio: "override", frames: null },
        metaxy_created_at: new Date(),
      },
    ]);
  });

  it("of a schemaless feature take any columns, still with provenance", () => {
    void store.write(schemaless, [{ sample_uid: "s0", anything: 1, ...provenance }]);
    // @ts-expect-error no metaxy_provenance_by_field
    void store.write(schemaless, [{ sample_uid: "s0" }]);
  });

  it("of a feature named by key, or typed as plain FeatureDefinition, are untyped", () => {
    const erased: FeatureDefinition = raw;
    void store.write("video/raw", [{ anything: 1 }]);
    void store.write(erased, [{ anything: 1 }]);
  });
});

describe("read rows", () => {
  it("carry the schema's output columns and typed system columns", async () => {
    const rows = await store.read(raw);
    expectTypeOf(rows).toEqualTypeOf<FeatureReadRow<typeof raw>[]>();
    expectTypeOf(rows[0].sample_uid).toEqualTypeOf<string>();
    expectTypeOf(rows[0].duration).toEqualTypeOf<number | undefined>();
    expectTypeOf(rows[0].metaxy_provenance_by_field).toEqualTypeOf<FieldVersions>();
    expectTypeOf(rows[0].metaxy_created_at).toEqualTypeOf<Date>();
    expectTypeOf(rows[0].metaxy_deleted_at).toEqualTypeOf<Date | null>();
  });

  it("with columns are exactly those columns", async () => {
    const rows = await store.read(raw, { columns: ["sample_uid", "path"] });
    expectTypeOf(rows).toEqualTypeOf<{ sample_uid: string; path: string }[]>();
    const withSystem = await store.read(raw, { columns: ["sample_uid", "metaxy_provenance"] });
    expectTypeOf(withSystem).toEqualTypeOf<{ sample_uid: string; metaxy_provenance: string }[]>();
    // @ts-expect-error not a column of video/raw
    await store.read(raw, { columns: ["sample_uid", "nope"] });
  });

  it("stream typed from readBatches, with or without columns", async () => {
    for await (const batch of store.readBatches(raw, { batchSize: 10 }))
      expectTypeOf(batch).toEqualTypeOf<FeatureReadRow<typeof raw>[]>();
    for await (const batch of store.readBatches(raw, { columns: ["path"] }))
      expectTypeOf(batch).toEqualTypeOf<{ path: string }[]>();
  });

  it("of a feature named by key are untyped rows with system columns", async () => {
    const [row] = await store.read("video/raw");
    expectTypeOf(row.path).toEqualTypeOf<unknown>();
    expectTypeOf(row.metaxy_provenance).toEqualTypeOf<string>();
    const picked = await store.read("video/raw", { columns: ["path"] });
    expectTypeOf(picked).toEqualTypeOf<{ path: unknown }[]>();
  });
});

describe("increment rows", () => {
  it("carry typed key columns and provenance; upstream columns are unknown", async () => {
    const increment = await store.resolveUpdate(transcript);
    expectTypeOf(increment).toEqualTypeOf<Increment<typeof transcript>>();
    for await (const batch of increment.toProcess()) {
      const [r] = batch;
      expectTypeOf(r.sample_uid).toEqualTypeOf<string>();
      expectTypeOf(r.metaxy_provenance_by_field).toEqualTypeOf<FieldVersions>();
      expectTypeOf(r.metaxy_data_version).toEqualTypeOf<string>();
      expectTypeOf(r.path).toEqualTypeOf<unknown>();
      // the write a worker makes from them type-checks without casts
      void store.write(
        transcript,
        batch.map((row) => ({
          sample_uid: row.sample_uid,
          text: `words of ${row.path}`,
          metaxy_provenance_by_field: row.metaxy_provenance_by_field,
        })),
      );
    }
  });

  it("of each kind: new and stale are increment rows, orphans stored rows", async () => {
    const increment = await store.resolveUpdate(transcript);
    for await (const batch of increment.batches("stale"))
      expectTypeOf(batch).toEqualTypeOf<IncrementRow<typeof transcript>[]>();
    for await (const batch of increment.batches("orphaned"))
      expectTypeOf(batch).toEqualTypeOf<FeatureReadRow<typeof transcript>[]>();
    const all = await increment.toArray();
    expectTypeOf(all.new).toEqualTypeOf<IncrementRow<typeof transcript>[]>();
    expectTypeOf(all.orphaned[0].text).toEqualTypeOf<string>();
  });

  it("stay typed through a stage", async () => {
    const staged = await (await store.resolveUpdate(transcript)).stage("s1");
    expectTypeOf(staged).toEqualTypeOf<StagedIncrement<typeof transcript>>();
    expectTypeOf(await staged.batch(0, 100)).toEqualTypeOf<IncrementRow<typeof transcript>[]>();
    const reopened = await store.openStagedIncrement<typeof transcript>("s1");
    expectTypeOf((await reopened.batch(0, 100))[0].sample_uid).toEqualTypeOf<string>();
    for await (const orphans of reopened.orphans())
      expectTypeOf(orphans).toEqualTypeOf<FeatureReadRow<typeof transcript>[]>();
  });

  it("of a feature named by key carry provenance and untyped columns", async () => {
    const increment = await store.resolveUpdate("video/transcript");
    for await (const [r] of increment.toProcess()) {
      expectTypeOf(r.sample_uid).toEqualTypeOf<unknown>();
      expectTypeOf(r.metaxy_provenance_by_field).toEqualTypeOf<FieldVersions>();
    }
  });

  it("of a root feature carry the columns of its samples, which need provenance", async () => {
    const samples = [{ sample_uid: "s0", path: "/v/0.mp4", ...provenance }];
    const increment = await store.resolveUpdate(raw, { samples });
    for await (const [r] of increment.toProcess()) {
      expectTypeOf(r.path).toEqualTypeOf<string>();
      expectTypeOf(r.metaxy_provenance).toEqualTypeOf<string>();
      void store.write(raw, [{ sample_uid: r.sample_uid, path: r.path, ...provenance }]);
    }
    // @ts-expect-error samples need metaxy_provenance_by_field
    await store.resolveUpdate(raw, { samples: [{ sample_uid: "s0" }] });
  });
});

describe("increment key columns follow the lineage", () => {
  const video = defineFeature({
    key: "media/video",
    idColumns: ["video_id"],
    schema: z.object({ video_id: z.string(), duration_s: z.number() }),
  });
  const speakerOf = defineFeature({
    key: "media/speaker",
    idColumns: ["video_id", "speaker"],
    schema: z.object({ video_id: z.string(), speaker: z.string() }),
  });
  type KeysOf<F> = keyof { [K in keyof IncrementRow<F> as string extends K ? never : K]: unknown };

  it("expansion (1:N): the parent's on columns, not the child's own ids", () => {
    const chunk = defineFeature({
      key: "media/chunk",
      idColumns: ["video_id", "chunk_id"],
      deps: [{ feature: video, lineage: Lineage.expansion({ on: ["video_id"] }) }],
      schema: z.object({ video_id: z.string(), chunk_id: z.number() }),
    });
    expectTypeOf<KeysOf<typeof chunk>>().toEqualTypeOf<"video_id" | ProvenanceKey>();
    expectTypeOf<IncrementRow<typeof chunk>["video_id"]>().toEqualTypeOf<string>();
    expectTypeOf<IncrementRow<typeof chunk>["chunk_id"]>().toEqualTypeOf<unknown>();
  });

  it("aggregation (N:1): the on columns, or the feature's ids without on", () => {
    const perVideo = defineFeature({
      key: "media/per_video",
      idColumns: ["video_id"],
      deps: [{ feature: speakerOf, lineage: Lineage.aggregation({ on: ["video_id"] }) }],
      schema: z.object({ video_id: z.string(), speakers: z.number() }),
    });
    const byDefault = defineFeature({
      key: "media/per_video_default",
      idColumns: ["video_id"],
      deps: [{ feature: speakerOf, lineage: Lineage.aggregation() }],
      schema: z.object({ video_id: z.string() }),
    });
    expectTypeOf<KeysOf<typeof perVideo>>().toEqualTypeOf<"video_id" | ProvenanceKey>();
    expectTypeOf<KeysOf<typeof byDefault>>().toEqualTypeOf<"video_id" | ProvenanceKey>();
  });

  it("identity over several deps: the id columns they share", () => {
    const both = defineFeature({
      key: "media/both",
      idColumns: ["video_id"],
      deps: [video, { feature: speakerOf }],
      schema: z.object({ video_id: z.string(), score: z.number() }),
    });
    expectTypeOf<KeysOf<typeof both>>().toEqualTypeOf<"video_id" | ProvenanceKey>();
  });

  it("nothing typed when the keys are not known statically", () => {
    const lineage = Lineage.identity() as Lineage;
    const viaVariable = defineFeature({
      key: "media/v",
      idColumns: ["video_id"],
      deps: [{ feature: video, lineage }],
    });
    const viaKey = defineFeature({ key: "media/k", idColumns: ["video_id"], deps: ["media/video"] });
    const renamed = defineFeature({
      key: "media/r",
      idColumns: ["vid"],
      deps: [{ feature: video, rename: { video_id: "vid" } }],
    });
    expectTypeOf<KeysOf<typeof viaVariable>>().toEqualTypeOf<ProvenanceKey>();
    expectTypeOf<KeysOf<typeof viaKey>>().toEqualTypeOf<ProvenanceKey>();
    expectTypeOf<KeysOf<typeof renamed>>().toEqualTypeOf<ProvenanceKey>();
  });
});

type ProvenanceKey =
  | "metaxy_provenance_by_field"
  | "metaxy_provenance"
  | "metaxy_data_version_by_field"
  | "metaxy_data_version";

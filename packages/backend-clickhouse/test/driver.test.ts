import { spawn } from "node:child_process";
import { IdempotencyConflictError, type Row, StoreLockedError } from "@metaxy/core";
import type { TableWrite } from "@metaxy/core/backend";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChdbQueryStream, ChdbStreams, ClickHouseDriver } from "../src/index.js";
import { embeddedDriver, sharedEnginePath } from "./engine.js";

const path = sharedEnginePath();
const schema = {
  sample_uid: "string",
  n: "integer",
  at: "timestamp",
  metaxy_provenance_by_field: "map",
} as const;
const rows = (count: number, offset = 0): Row[] =>
  Array.from({ length: count }, (_, i) => ({
    sample_uid: `s${offset + i}`,
    n: offset + i,
    at: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, offset + i)),
    metaxy_provenance_by_field: { default: `v${offset + i}` },
  }));
const write = (table: string, r: Row[], key?: string, fingerprint = "fp"): TableWrite => ({
  table,
  feature: table,
  schema,
  rows: r,
  idColumns: ["sample_uid"],
  idempotency: key === undefined ? undefined : { key, fingerprint },
});

let n = 0;
async function open(database = `driver_${++n}`): Promise<ClickHouseDriver> {
  const driver = await embeddedDriver({ path, database });
  await driver.open("w");
  return driver;
}
const count = async (d: ClickHouseDriver, table: string) =>
  Number((await d.all(`SELECT count() AS n FROM ${d.relation(table, false)}`))[0].n);

let d: ClickHouseDriver;
beforeAll(async () => {
  d = await open();
});
afterAll(() => d?.close());

describe("ClickHouse driver", () => {
  it("creates a MergeTree sorted by the id columns, with a deduplication window", async () => {
    expect(await d.write([write("layout", rows(3))])).toEqual([3]);
    const [t] = await d.all(
      "SELECT engine, sorting_key AS key, create_table_query AS ddl FROM system.tables WHERE database = currentDatabase() AND name = 'layout'",
    );
    expect(t.engine).toBe("MergeTree");
    expect(String(t.key).replace(/[()]/g, "")).toBe("sample_uid");
    expect(t.ddl).toContain("non_replicated_deduplication_window = 10000");
    expect(await d.describe("layout")).toEqual([
      ["sample_uid", "Nullable(String)"],
      ["n", "Nullable(Int64)"],
      ["at", "Nullable(DateTime64(6, 'UTC'))"],
      ["metaxy_provenance_by_field", "Map(String, String)"],
    ]);
    const back = await d.all("SELECT * FROM layout ORDER BY n");
    expect(back).toEqual(rows(3));
  });

  it("a replayed key writes nothing; a retried insert leaves one copy; another fingerprint is a conflict", async () => {
    expect(await d.write([write("idem", rows(100), "k1")])).toEqual([100]);
    expect(await d.write([write("idem", rows(100), "k1")])).toEqual([0]);
    expect(await count(d, "idem")).toBe(100);
    await expect(d.write([write("idem", rows(5), "k1", "other")])).rejects.toThrow(IdempotencyConflictError);
    // A crash after the claim and the insert, before the key was marked done: the retry inserts
    // again with the same token, and ClickHouse drops the copy.
    await d.write([write("idem2", rows(1))]);
    await d.run(
      "INSERT INTO metaxy_system__idempotency VALUES ('idem2', 'k2', 'fp', 'claimed', 100, now64(6))",
    );
    await d.run(
      "INSERT INTO idem2 (sample_uid) SETTINGS deduplicate_insert = 'enable', insert_deduplication_token = 'k2' VALUES ('crashed')",
    );
    expect(await count(d, "idem2")).toBe(2);
    expect(await d.write([write("idem2", rows(100, 10), "k2")])).toEqual([100]);
    expect(await count(d, "idem2")).toBe(2);
    expect(await d.write([write("idem2", rows(100, 10), "k2")])).toEqual([0]);
  });

  it("writes without a key are never deduplicated, even after a tokened insert on the same session", async () => {
    await d.write([write("plain", rows(10), "tok")]);
    await d.write([write("plain", rows(10))]);
    await d.write([write("plain", rows(10))]);
    expect(await count(d, "plain")).toBe(30);
  });

  it("adds columns by ALTER TABLE; old rows read NULL", async () => {
    await d.write([write("evolve", rows(2))]);
    await d.write([
      { ...write("evolve", [{ ...rows(1, 5)[0], extra: 1.5 }]), schema: { ...schema, extra: "float" } },
    ]);
    expect((await d.describe("evolve"))?.map(([c]) => c)).toContain("extra");
    const back = await d.all("SELECT n, extra FROM evolve ORDER BY n");
    expect(back).toEqual([
      { n: 0, extra: null },
      { n: 1, extra: null },
      { n: 5, extra: 1.5 },
    ]);
  });

  it("streams in batches while the caller writes between them", async () => {
    await d.write([write("big", rows(5000))]);
    let seen = 0;
    for await (const batch of d.stream("SELECT * FROM big ORDER BY n", 1000)) {
      expect(batch.length).toBeLessThanOrEqual(1000);
      seen += batch.length;
      await d.write([write("side", rows(1, seen))]);
    }
    expect(seen).toBe(5000);
    expect(await count(d, "side")).toBe(5);
  });

  it("embedded reads stream chunk by chunk through chdb's own stream, and leaving early frees it", async () => {
    // Counts what the real engine hands over: native chunks fetched, streams started and closed.
    const seen = { started: 0, chunks: 0, open: [] as ChdbQueryStream[] };
    const counting = (chdb: ChdbStreams): ChdbStreams => ({
      queryAsync: (sql) => chdb.queryAsync(sql),
      queryStream(sql, options) {
        const inner = chdb.queryStream(sql, options);
        seen.started++;
        seen.open.push(inner);
        return {
          get closed() {
            return inner.closed;
          },
          cancel: () => inner.cancel(),
          async *[Symbol.asyncIterator]() {
            for await (const chunk of inner) {
              seen.chunks++;
              yield chunk;
            }
          },
        };
      },
    });
    const s = await embeddedDriver({ path, database: `driver_${++n}`, chdb: counting });
    await s.open("w");
    try {
      await s.run("CREATE TABLE wide (n Int64, s String) ENGINE = MergeTree ORDER BY n");
      await s.run("INSERT INTO wide SELECT number, repeat('x', 100) FROM numbers(300000)");
      // The whole result is many native blocks; the first batch needs only the first of them.
      const stream = s.stream("SELECT n, s FROM wide WHERE s != {p0:String} ORDER BY n", 1000, {
        p0: "a\tb'\\",
      });
      let batches = 0;
      let rows = 0;
      for await (const batch of stream) {
        if (batches === 0) expect(seen.chunks).toBe(1);
        expect(batch.length).toBeLessThanOrEqual(1000);
        batches++;
        rows += batch.length;
      }
      expect(rows).toBe(300000);
      expect(batches).toBe(300);
      expect(seen.chunks).toBeGreaterThan(3);
      expect(seen.started).toBe(1);
      // A parameter reaches the engine as the same string (escaped text form).
      const value = "tab\t nl\n cr\r back\\ quote' nul\u0000 {p1:String}";
      const echoed: Row[] = [];
      for await (const batch of s.stream("SELECT {p0:String} AS v, {p1:Int64} AS i", 10, {
        p0: value,
        p1: "-7",
      }))
        echoed.push(...batch);
      expect(echoed).toEqual([{ v: value, i: -7 }]);
      // Leaving a stream early cancels it: the session's one stream slot is free again.
      const chunksBefore = seen.chunks;
      for await (const batch of s.stream("SELECT n FROM wide ORDER BY n", 100)) {
        expect(batch.length).toBe(100);
        break;
      }
      expect(seen.open.at(-1)!.closed).toBe(true);
      expect(seen.chunks - chunksBefore).toBe(1);
      let again = 0;
      for await (const batch of s.stream("SELECT n FROM wide WHERE n < 10", 100)) again += batch.length;
      expect(again).toBe(10);
      expect(seen.started).toBe(4);
      // Two reads at once: the second takes the client's path (chdb has one stream per session).
      const outer = s.stream("SELECT n FROM wide WHERE n < 3000 ORDER BY n", 1000);
      let nested = 0;
      for await (const batch of outer) {
        for await (const inner of s.stream("SELECT n FROM wide WHERE n < 5", 100)) nested += inner.length;
        expect(batch.length).toBe(1000);
      }
      expect(nested).toBe(15);
      expect(seen.started).toBe(5);
    } finally {
      await s.close();
    }
  });

  it("scratch relations: Memory tables of this driver, never listed, dropped at close", async () => {
    const other = await open(`driver_scratch`);
    const relation = other.relation("samples_1", true);
    await other.loadScratch(
      relation,
      { sample_uid: "string", metaxy_provenance_by_field: "map", j: "json" },
      [
        [{ sample_uid: "a", metaxy_provenance_by_field: { x: "1" }, j: { deep: [1] } }],
        [{ sample_uid: "b", metaxy_provenance_by_field: null, j: null }],
      ],
    );
    expect(await other.all(`SELECT * FROM ${relation} ORDER BY sample_uid`)).toEqual([
      { sample_uid: "a", metaxy_provenance_by_field: { x: "1" }, j: '{"deep":[1]}' },
      { sample_uid: "b", metaxy_provenance_by_field: {}, j: null },
    ]);
    expect(other.logicalType((await other.describe("samples_1", true))![2][1])).toBe("json");
    const copy = other.relation("copy", true);
    await other.createTableAs(
      copy,
      `SELECT * FROM ${relation} WHERE sample_uid = {p0:String}`,
      { p0: "a" },
      true,
    );
    expect(await other.all(`SELECT sample_uid FROM ${copy}`)).toEqual([{ sample_uid: "a" }]);
    expect(await other.listTables()).toEqual([]);
    await other.close();
    const [left] = await d.all(
      "SELECT count() AS n FROM system.tables WHERE database = 'driver_scratch' AND startsWith(name, 'metaxy_scratch__')",
    );
    expect(Number(left.n)).toBe(0);
  });

  it("insertSelect and deleteWhere return exact counts", async () => {
    await d.write([write("dml", rows(10))]);
    expect(
      await d.insertSelect(
        "dml",
        ["sample_uid", "n"],
        "SELECT sample_uid, n + 100 AS n FROM dml WHERE n < {p0:Int64}",
        { p0: 4 },
      ),
    ).toBe(4);
    expect(await d.deleteWhere("dml", "n >= {p0:Int64}", { p0: 100 })).toBe(4);
    expect(await count(d, "dml")).toBe(10);
    expect(await d.deleteWhere("dml", null, {})).toBe(10);
    expect(await count(d, "dml")).toBe(0);
  });

  it("several sessions write one table at once: nothing lost, nothing doubled (retries included)", async () => {
    const writers = await Promise.all([1, 2, 3, 4].map(() => open("driver_shared")));
    try {
      await Promise.all(
        writers.map(async (w, i) => {
          for (let j = 0; j < 15; j++) {
            const batch = write("shared", rows(50, (i * 15 + j) * 50), `w${i}-${j}`);
            await w.write([batch]);
            if (j % 3 === 0) await w.write([batch]); // a retry
            if (j % 5 === 0) await writers[(i + 1) % 4].write([batch]); // the same batch from another session
          }
        }),
      );
      const [r] = await writers[0].all("SELECT count() AS n, uniqExact(sample_uid) AS u FROM shared");
      expect({ n: Number(r.n), u: Number(r.u) }).toEqual({ n: 4 * 15 * 50, u: 4 * 15 * 50 });
    } finally {
      await Promise.all(writers.map((w) => w.close()));
    }
  });

  it("the same key with two fingerprints at once: one lands, the other is a conflict", async () => {
    const [a, b] = await Promise.all([open("driver_race"), open("driver_race")]);
    try {
      const results = await Promise.allSettled([
        a.write([write("race", rows(7), "same", "fp-a")]),
        b.write([write("race", rows(9, 100), "same", "fp-b")]),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(rejected.reason).toBeInstanceOf(IdempotencyConflictError);
      expect([7, 9]).toContain(await count(a, "race"));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("another data directory in this process is STORE_LOCKED (chdb binds one per process)", async () => {
    await expect(embeddedDriver({ path: `${path}-other` })).rejects.toThrow(StoreLockedError);
  });

  it("another process cannot open the directory while this one holds it", async () => {
    const script = `import("chdb/connection").then(({ createChdbConnection }) => { try { createChdbConnection({ path: ${JSON.stringify(path)} }); console.log("OPENED"); } catch (e) { console.log("REFUSED " + e.message); } })`;
    const out = await new Promise<string>((resolve) => {
      const child = spawn(process.execPath, ["-e", script], {
        cwd: import.meta.dirname,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let text = "";
      child.stdout.on("data", (c) => (text += c));
      child.stderr.on("data", (c) => (text += c));
      child.on("exit", () => resolve(text));
    });
    expect(out).toContain("REFUSED");
    expect(out).toContain("Cannot lock file");
  });
});

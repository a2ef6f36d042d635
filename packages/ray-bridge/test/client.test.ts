import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  RayHeadUnreachableError,
  RayJobsClient,
  RayRequestError,
  RaySubmissionRejectedError,
  zipFiles,
} from "../src/index.js";
import { ray } from "./fixtures.js";

const id = (name: string) => `test-${name}-${randomUUID().slice(0, 8)}`;

describe("RayJobsClient on the real head", () => {
  it("submits, waits, reads logs and lists a job; a re-used id is rejected; unknown ids are null", async () => {
    const submissionId = id("hello");
    const submitted = await ray.submit({
      entrypoint: `python -c "print('hello from ray')"`,
      submissionId,
      metadata: { owner: "metaxy-test" },
    });
    expect(submitted.submissionId).toBe(submissionId);
    const polls: string[] = [];
    const job = await ray.waitFor(submissionId, { onPoll: (j) => polls.push(j.status), timeoutMs: 120_000 });
    expect(job).toMatchObject({
      status: "SUCCEEDED",
      submission_id: submissionId,
      metadata: { owner: "metaxy-test" },
    });
    expect(polls.at(-1)).toBe("SUCCEEDED");
    expect(await ray.logs(submissionId)).toContain("hello from ray");
    expect((await ray.list()).map((j) => j.submission_id)).toContain(submissionId);

    const again = ray.submit({ entrypoint: "true", submissionId });
    await expect(again).rejects.toSatisfy(
      (e) =>
        RaySubmissionRejectedError.isInstance(e) &&
        e.code === "RAY_SUBMISSION_REJECTED" &&
        e.details.alreadyExists === true,
    );
    expect(await ray.get(id("never-submitted"))).toBeNull();
    expect(await ray.delete(submissionId)).toBe(true);
    expect(await ray.get(submissionId)).toBeNull();
    await expect(ray.logs(id("never-submitted"))).rejects.toSatisfy((e) => RayRequestError.isInstance(e));
  });

  it("stops a running job (STOPPED) and reports a failing one with Ray's error_type", async () => {
    const sleeper = id("sleep");
    await ray.submit({
      entrypoint: `python -c "import time; print('started', flush=True); time.sleep(300)"`,
      submissionId: sleeper,
    });
    const failing = id("fail");
    await ray.submit({ entrypoint: `python -c "raise SystemExit('boom: exit 3')"`, submissionId: failing });
    // Wait until it runs, then stop it.
    for (let i = 0; i < 240 && (await ray.get(sleeper))?.status !== "RUNNING"; i++)
      await new Promise((r) => setTimeout(r, 250));
    expect(await ray.stop(sleeper)).toBe(true);
    expect((await ray.waitFor(sleeper, { timeoutMs: 60_000 })).status).toBe("STOPPED");
    const failed = await ray.waitFor(failing, { timeoutMs: 120_000 });
    expect(failed).toMatchObject({ status: "FAILED", error_type: "JOB_ENTRYPOINT_COMMAND_ERROR" });
    expect(await ray.logs(failing)).toContain("boom: exit 3");
  });

  it("uploads a working_dir package (gcs://) that a job imports", async () => {
    const name = id("pkg");
    const zip = zipFiles([
      { name: "greeter.py", data: Buffer.from("def greet():\n    return 'hi from a package'\n") },
    ]);
    const uri = await ray.uploadPackage(name, zip);
    expect(uri).toBe(`gcs://${name}.zip`);
    expect(await ray.hasPackage(name)).toBe(true);
    const submissionId = id("uses-pkg");
    await ray.submit({
      entrypoint: `python -c "import greeter; print(greeter.greet())"`,
      submissionId,
      runtimeEnv: { working_dir: uri },
    });
    expect((await ray.waitFor(submissionId, { timeoutMs: 120_000 })).status).toBe("SUCCEEDED");
    expect(await ray.logs(submissionId)).toContain("hi from a package");
  });

  it("a head that does not answer is a RayHeadUnreachableError", async () => {
    const nobody = new RayJobsClient({ address: "http://127.0.0.1:9", requestTimeoutMs: 2_000 });
    await expect(nobody.list()).rejects.toSatisfy(
      (e) => RayHeadUnreachableError.isInstance(e) && e.code === "RAY_HEAD_UNREACHABLE",
    );
  });
});

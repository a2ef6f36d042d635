import { request } from "node:http";
import { z } from "zod";
import {
  RayHeadUnreachableError,
  RayJobTimeoutError,
  RayRequestError,
  RayResponseInvalidError,
  RaySubmissionRejectedError,
} from "./errors.js";

export const JOB_STATUSES = ["PENDING", "RUNNING", "STOPPED", "SUCCEEDED", "FAILED"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL: ReadonlySet<JobStatus> = new Set(["STOPPED", "SUCCEEDED", "FAILED"]);

const jobDetails = z.object({
  type: z.string().nullish(),
  job_id: z.string().nullish(),
  submission_id: z.string().nullish(),
  status: z.enum(JOB_STATUSES),
  entrypoint: z.string(),
  message: z.string().nullish(),
  error_type: z.string().nullish(),
  /** Milliseconds since the epoch. */
  start_time: z.number().nullish(),
  end_time: z.number().nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  runtime_env: z.record(z.string(), z.unknown()).nullish(),
  driver_exit_code: z.number().nullish(),
});
/** What the Jobs API reports about one job (the fields this package uses). */
export type JobDetails = z.infer<typeof jobDetails>;

const submitResponse = z.object({ submission_id: z.string(), job_id: z.string().nullish() });
const logsResponse = z.object({ logs: z.string() });
const stopResponse = z.object({ stopped: z.boolean() });
const deleteResponse = z.object({ deleted: z.boolean() });

/** A job submission, as the Jobs API takes it. */
export interface SubmitJobRequest {
  entrypoint: string;
  /** Ray refuses an id it already has; give one to make the submission idempotent. */
  submissionId?: string;
  runtimeEnv?: RuntimeEnv;
  metadata?: Record<string, string>;
  entrypointNumCpus?: number;
  entrypointNumGpus?: number;
  entrypointResources?: Record<string, number>;
}

/** The runtime_env fields that work against a head without internet access, and the rest. */
export interface RuntimeEnv {
  /** `local:///abs/dir` (used in place) or `gcs://name.zip` (see `uploadPackage`). */
  working_dir?: string;
  py_modules?: string[];
  env_vars?: Record<string, string>;
  [key: string]: unknown;
}

export interface WaitOptions {
  /** Give up (RayJobTimeoutError) after this long. Default: wait as long as it takes. */
  timeoutMs?: number;
  /** First poll interval; doubles up to `maxIntervalMs`. Default 200 ms. */
  minIntervalMs?: number;
  /** Default 5 s. */
  maxIntervalMs?: number;
  /** Rejects with `signal.reason` when aborted (the job keeps running: stop it yourself). */
  signal?: AbortSignal;
  /** Called after each poll, e.g. to heartbeat. */
  onPoll?(job: JobDetails): void;
}

export interface RayJobsClientOptions {
  /** The dashboard's address. Default `http://127.0.0.1:8265`. */
  address?: string;
  /** Per request. Default 30 s. */
  requestTimeoutMs?: number;
}

/**
 * A typed client of Ray's Jobs REST API (`/api/jobs/`, `/api/packages/`). It speaks `node:http`:
 * Ray answers 405 to every non-GET request that Node's global `fetch` sends (undici adds
 * `sec-fetch-*` headers, which the dashboard rejects).
 */
export class RayJobsClient {
  readonly address: string;
  private readonly timeoutMs: number;

  constructor(options: RayJobsClientOptions = {}) {
    this.address = (options.address ?? "http://127.0.0.1:8265").replace(/\/+$/, "");
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  /** Submits a job; a rejection (HTTP 4xx/5xx) is a RaySubmissionRejectedError. */
  async submit(job: SubmitJobRequest): Promise<{ submissionId: string; jobId?: string }> {
    const body = {
      entrypoint: job.entrypoint,
      submission_id: job.submissionId,
      runtime_env: job.runtimeEnv,
      metadata: job.metadata,
      entrypoint_num_cpus: job.entrypointNumCpus,
      entrypoint_num_gpus: job.entrypointNumGpus,
      entrypoint_resources: job.entrypointResources,
    };
    const res = await this.call("POST", "/api/jobs/", JSON.stringify(body));
    if (res.status !== 200)
      throw new RaySubmissionRejectedError(
        `Ray refused job ${job.submissionId ?? "(no id)"}: HTTP ${res.status}: ${res.text.slice(0, 2000)}`,
        {
          submissionId: job.submissionId,
          status: res.status,
          body: res.text.slice(0, 2000),
          alreadyExists: res.text.includes("already exists"),
        },
      );
    const parsed = parse(submitResponse, res.text, "POST /api/jobs/");
    return { submissionId: parsed.submission_id, jobId: parsed.job_id ?? undefined };
  }

  /** The job's details, or null when the head does not know the id. */
  async get(submissionId: string): Promise<JobDetails | null> {
    const path = `/api/jobs/${encodeURIComponent(submissionId)}`;
    const res = await this.call("GET", path);
    if (res.status === 404) return null;
    this.expectOk(res, "GET", path);
    return parse(jobDetails, res.text, `GET ${path}`);
  }

  /** The job's driver logs (everything so far). */
  async logs(submissionId: string): Promise<string> {
    const path = `/api/jobs/${encodeURIComponent(submissionId)}/logs`;
    const res = await this.call("GET", path);
    this.expectOk(res, "GET", path);
    return parse(logsResponse, res.text, `GET ${path}`).logs;
  }

  /** Asks the head to stop the job; false when it had already ended. */
  async stop(submissionId: string): Promise<boolean> {
    const path = `/api/jobs/${encodeURIComponent(submissionId)}/stop`;
    const res = await this.call("POST", path, "{}");
    this.expectOk(res, "POST", path);
    return parse(stopResponse, res.text, `POST ${path}`).stopped;
  }

  /** Deletes an ended job's record (Ray refuses to delete a running one: HTTP 500). */
  async delete(submissionId: string): Promise<boolean> {
    const path = `/api/jobs/${encodeURIComponent(submissionId)}`;
    const res = await this.call("DELETE", path);
    this.expectOk(res, "DELETE", path);
    return parse(deleteResponse, res.text, `DELETE ${path}`).deleted;
  }

  /** Every job the head remembers (its history is lost when the head stops). */
  async list(): Promise<JobDetails[]> {
    const res = await this.call("GET", "/api/jobs/");
    this.expectOk(res, "GET", "/api/jobs/");
    return parse(z.array(jobDetails), res.text, "GET /api/jobs/");
  }

  /** Polls with exponential backoff until the job is SUCCEEDED, FAILED or STOPPED. */
  async waitFor(submissionId: string, options: WaitOptions = {}): Promise<JobDetails> {
    const started = Date.now();
    let interval = options.minIntervalMs ?? 200;
    const max = options.maxIntervalMs ?? 5_000;
    for (;;) {
      options.signal?.throwIfAborted();
      const job = await this.get(submissionId);
      if (!job)
        throw new RayRequestError(`Ray does not know job ${submissionId}`, { submissionId, status: 404 });
      options.onPoll?.(job);
      if (TERMINAL.has(job.status)) return job;
      if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs)
        throw new RayJobTimeoutError(
          `job ${submissionId} still ${job.status} after ${options.timeoutMs} ms`,
          {
            submissionId,
            status: job.status,
          },
        );
      await sleep(interval, options.signal);
      interval = Math.min(max, interval * 2);
    }
  }

  /**
   * Uploads a zip (files at its root) as `gcs://<name>.zip` and returns that URI, for
   * `runtimeEnv.working_dir` or `py_modules`. Ray drops the package once no job uses it.
   */
  async uploadPackage(name: string, zip: Uint8Array): Promise<string> {
    const file = name.endsWith(".zip") ? name : `${name}.zip`;
    const path = `/api/packages/gcs/${encodeURIComponent(file)}`;
    const res = await this.call("PUT", path, zip, "application/octet-stream");
    this.expectOk(res, "PUT", path);
    return `gcs://${file}`;
  }

  /** Whether the head already holds `gcs://<name>.zip`. */
  async hasPackage(name: string): Promise<boolean> {
    const file = name.endsWith(".zip") ? name : `${name}.zip`;
    const res = await this.call("GET", `/api/packages/gcs/${encodeURIComponent(file)}`);
    return res.status === 200;
  }

  private expectOk(res: { status: number; text: string }, method: string, path: string): void {
    if (res.status < 200 || res.status >= 300)
      throw new RayRequestError(`${method} ${path}: HTTP ${res.status}: ${res.text.slice(0, 2000)}`, {
        method,
        path,
        status: res.status,
        body: res.text.slice(0, 2000),
      });
  }

  private call(
    method: string,
    path: string,
    body?: string | Uint8Array,
    contentType = "application/json",
  ): Promise<{ status: number; text: string }> {
    const url = new URL(path, this.address);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          timeout: this.timeoutMs,
          headers: body === undefined ? {} : { "content-type": contentType, "content-length": body.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
          );
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on("error", (e) =>
        reject(
          new RayHeadUnreachableError(
            `Ray head ${this.address} unreachable (${method} ${path}): ${e.message}`,
            {
              address: this.address,
              method,
              path,
            },
            { cause: e },
          ),
        ),
      );
      req.end(body);
    });
  }
}

function parse<T>(schema: z.ZodType<T>, text: string, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new RayResponseInvalidError(`${what}: not JSON: ${text.slice(0, 300)}`, { what });
  }
  const result = schema.safeParse(json);
  if (!result.success)
    throw new RayResponseInvalidError(`${what}: unexpected response: ${result.error.message}`, { what });
  return result.data;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", abort, { once: true });
  });
}

import { defineError } from "@metaxy/core";

/** Codes of the bridge's own failures (core's `defineError`); errors from core keep their own `code`. */
export type RayErrorCode =
  | "RAY_HEAD_UNREACHABLE"
  | "RAY_REQUEST_FAILED"
  | "RAY_SUBMISSION_REJECTED"
  | "RAY_JOB_FAILED"
  | "RAY_JOB_STOPPED"
  | "RAY_JOB_TIMEOUT"
  | "RAY_RESPONSE_INVALID"
  | "RAY_RESULT_MISMATCH";

const rayError = <C extends RayErrorCode>(name: string, code: C) => defineError(name, code);

/** The head did not answer (connection refused, reset, timed out). */
export class RayHeadUnreachableError extends rayError("RayHeadUnreachableError", "RAY_HEAD_UNREACHABLE") {}
/** The Jobs API answered with an unexpected HTTP status. `details.status`, `details.body`. */
export class RayRequestError extends rayError("RayRequestError", "RAY_REQUEST_FAILED") {}
/** The head refused a submission (bad runtime_env, a re-used `submission_id`, ...). */
export class RaySubmissionRejectedError extends rayError(
  "RaySubmissionRejectedError",
  "RAY_SUBMISSION_REJECTED",
) {}
/** A job ended FAILED. `details.errorType` is Ray's `error_type`; `details.logs` the tail of its logs. */
export class RayJobFailedError extends rayError("RayJobFailedError", "RAY_JOB_FAILED") {}
/** A job ended STOPPED (someone stopped it, or the activity was cancelled). */
export class RayJobStoppedError extends rayError("RayJobStoppedError", "RAY_JOB_STOPPED") {}
/** `waitFor` gave up before the job ended. */
export class RayJobTimeoutError extends rayError("RayJobTimeoutError", "RAY_JOB_TIMEOUT") {}
/** A Jobs API response did not have the expected shape. */
export class RayResponseInvalidError extends rayError("RayResponseInvalidError", "RAY_RESPONSE_INVALID") {}
/** The rows a job returned do not match its batch (missing, extra or duplicated ids, bad columns). */
export class RayResultMismatchError extends rayError("RayResultMismatchError", "RAY_RESULT_MISMATCH") {}

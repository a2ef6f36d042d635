import { MetaxyError, type MetaxyErrorDetails } from "@metaxy/core";

/** Codes of the bridge's own failures; errors from core keep their own `code`. */
export type RayErrorCode =
  | "RAY_HEAD_UNREACHABLE"
  | "RAY_REQUEST_FAILED"
  | "RAY_SUBMISSION_REJECTED"
  | "RAY_JOB_FAILED"
  | "RAY_JOB_STOPPED"
  | "RAY_JOB_TIMEOUT"
  | "RAY_RESPONSE_INVALID"
  | "RAY_RESULT_MISMATCH";

type ErrorConstructor<T> = abstract new (...args: any[]) => T;

/** The same pattern as core's `defineError`: a class per code, recognised across package copies. */
function defineRayError<C extends RayErrorCode>(name: string, code: C) {
  const marker = `metaxy.error.${name}`;
  return class extends MetaxyError {
    override readonly code: C = code;

    constructor(message: string, details?: MetaxyErrorDetails, options?: { cause?: unknown }) {
      super(message, details, options);
      this.name = name;
      Object.defineProperty(this, Symbol.for(marker), { value: true });
    }

    static override isInstance<T extends MetaxyError>(this: ErrorConstructor<T>, value: unknown): value is T {
      return MetaxyError.hasMarker(value, marker);
    }
  };
}

/** The head did not answer (connection refused, reset, timed out). */
export class RayHeadUnreachableError extends defineRayError(
  "RayHeadUnreachableError",
  "RAY_HEAD_UNREACHABLE",
) {}
/** The Jobs API answered with an unexpected HTTP status. `details.status`, `details.body`. */
export class RayRequestError extends defineRayError("RayRequestError", "RAY_REQUEST_FAILED") {}
/** The head refused a submission (bad runtime_env, a re-used `submission_id`, ...). */
export class RaySubmissionRejectedError extends defineRayError(
  "RaySubmissionRejectedError",
  "RAY_SUBMISSION_REJECTED",
) {}
/** A job ended FAILED. `details.errorType` is Ray's `error_type`; `details.logs` the tail of its logs. */
export class RayJobFailedError extends defineRayError("RayJobFailedError", "RAY_JOB_FAILED") {}
/** A job ended STOPPED (someone stopped it, or the activity was cancelled). */
export class RayJobStoppedError extends defineRayError("RayJobStoppedError", "RAY_JOB_STOPPED") {}
/** `waitFor` gave up before the job ended. */
export class RayJobTimeoutError extends defineRayError("RayJobTimeoutError", "RAY_JOB_TIMEOUT") {}
/** A Jobs API response did not have the expected shape. */
export class RayResponseInvalidError extends defineRayError(
  "RayResponseInvalidError",
  "RAY_RESPONSE_INVALID",
) {}
/** The rows a job returned do not match its batch (missing, extra or duplicated ids, bad columns). */
export class RayResultMismatchError extends defineRayError("RayResultMismatchError", "RAY_RESULT_MISMATCH") {}

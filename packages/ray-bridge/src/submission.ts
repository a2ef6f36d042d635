import { createHash } from "node:crypto";

/**
 * The stable part of a batch's submission ids: a hash of its idempotency key
 * (`<workflowId>/<feature>/<stage>/<batch>`), short and safe in a URL.
 */
export function submissionBase(idempotencyKey: string): string {
  return `metaxy-${createHash("sha256").update(idempotencyKey).digest("hex").slice(0, 24)}`;
}

/**
 * The submission id of try `attempt` (1, 2, ...) of a batch's job. Every Temporal attempt of the
 * batch computes the same ids, so a retry finds the job an earlier attempt submitted; a job that
 * ended FAILED or STOPPED is followed by the next id (Ray refuses a re-used id).
 */
export function submissionIdFor(idempotencyKey: string, attempt: number): string {
  return `${submissionBase(idempotencyKey)}-a${attempt}`;
}

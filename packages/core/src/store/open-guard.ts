import { StoreClosedError } from "../errors.js";

/** Whether the store an increment or read belongs to is still open. */
export type OpenCheck = () => boolean;

/**
 * Streams `source` while the store stays open. A store closed mid-iteration makes the engine's
 * stream end early or fail; either way the loop must not look finished, so it throws.
 */
export async function* whileOpen<T>(
  source: AsyncIterable<T>,
  isOpen: OpenCheck,
  what: string,
): AsyncGenerator<T> {
  try {
    for await (const item of source) {
      if (!isOpen()) throw closedError(what);
      yield item;
    }
  } catch (e) {
    if (!isOpen() && !(e instanceof StoreClosedError)) throw closedError(what, e);
    throw e;
  }
  if (!isOpen()) throw closedError(what);
}

/** Runs `fn` and fails with STORE_CLOSED when the store was closed before or while it ran. */
export async function openOnly<T>(isOpen: OpenCheck, what: string, fn: () => Promise<T>): Promise<T> {
  if (!isOpen()) throw closedError(what);
  try {
    const out = await fn();
    if (!isOpen()) throw closedError(what);
    return out;
  } catch (e) {
    if (!isOpen() && !(e instanceof StoreClosedError)) throw closedError(what, e);
    throw e;
  }
}

function closedError(what: string, cause?: unknown): StoreClosedError {
  return new StoreClosedError(`The store was closed while ${what}`, {}, cause ? { cause } : undefined);
}

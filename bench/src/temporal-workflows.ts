// The baseline of `pnpm bench -- --temporal`: the same sliding window of batch activities as
// `materializeFeature`, with no Metaxy in it (no resolve, no stage, no store reads or writes).
import { proxyActivities } from "@temporalio/workflow";
import type { BareActivities } from "./temporal-bench.js";

const { bareBatch } = proxyActivities<BareActivities>({
  startToCloseTimeout: "10 minutes",
  heartbeatTimeout: "30 seconds",
  retry: { maximumAttempts: 3 },
});

export async function bareFanOut(input: {
  batches: number;
  batchSize: number;
  window: number;
}): Promise<number> {
  let next = 0;
  let processed = 0;
  const inFlight = new Map<number, Promise<void>>();
  while (next < input.batches || inFlight.size > 0) {
    while (inFlight.size < input.window && next < input.batches) {
      const i = next++;
      inFlight.set(
        i,
        bareBatch(i, input.batchSize).then((n) => {
          processed += n;
          inFlight.delete(i);
        }),
      );
    }
    await Promise.race(inFlight.values());
  }
  return processed;
}

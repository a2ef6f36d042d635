/** Quantile with linear interpolation between closest ranks (R type 7, numpy's default, Python's `statistics.quantiles(method="inclusive")`). */
export function quantile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/** Q3 - Q1 (0 for fewer than two values). */
export function iqr(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  return quantile(xs, 0.75) - quantile(xs, 0.25);
}

export function summary(xs: readonly number[]): {
  median_ms: number;
  iqr_ms: number;
  min_ms: number;
  max_ms: number;
} {
  return {
    median_ms: round3(median(xs)),
    iqr_ms: round3(iqr(xs)),
    min_ms: round3(Math.min(...xs)),
    max_ms: round3(Math.max(...xs)),
  };
}

export function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

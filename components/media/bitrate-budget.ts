/**
 * Shares the broadcaster's upload among its viewers: each gets the budget
 * divided by their number, within a floor and a ceiling. Quality then
 * degrades for everyone as viewers join, instead of the uplink saturating
 * and every stream freezing.
 */
export interface BitrateBudget {
  /** Total upload for video, in kbit/s. */
  totalKbps: number;
  /** No viewer gets more than this (more buys little at 720p). */
  maxPerViewerKbps: number;
  /** Nor less than this: below it video is not worth sending. */
  minPerViewerKbps: number;
}

export const DEFAULT_BUDGET: BitrateBudget = {
  totalKbps: 4000,
  maxPerViewerKbps: 1500,
  minPerViewerKbps: 150,
};

/** Bits per second for each of `viewers` viewers. */
export function perViewerBitrate(
  viewers: number,
  budget: BitrateBudget = DEFAULT_BUDGET,
): number {
  const share = budget.totalKbps / Math.max(1, viewers);
  const kbps = Math.min(
    budget.maxPerViewerKbps,
    Math.max(budget.minPerViewerKbps, share),
  );
  return Math.round(kbps * 1000);
}

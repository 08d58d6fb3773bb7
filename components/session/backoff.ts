/**
 * Exponential backoff with full jitter (delay drawn from 0 to the cap), so
 * viewers of a restarted server do not reconnect in lockstep.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 500,
  maxMs: 15_000,
};

export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  // Up to the cap; never quite zero: a server that closes at once must not
  // be hammered. One expression: its inlined copy in the bundles is shorter.
  return Math.max(
    50,
    Math.round(
      Math.min(options.maxMs, options.initialMs * 2 ** attempt) * random(),
    ),
  );
}

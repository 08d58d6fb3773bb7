/**
 * One directory step and what follows it, synchronously when the step is
 * (in memory), so a one-process server never waits a tick.
 */
import type { Logger } from "../observe/logger.ts";
import type { Eventually } from "./directory.ts";

/**
 * Runs `step` and then `next`. A failed step is logged; the returned
 * promise rejects so the caller can refuse or retry.
 */
export function storeStep<T>(
  logger: Logger,
  step: () => Eventually<T>,
  next: (value: T) => void,
): Promise<void> | undefined {
  const value = step();
  if (!(value instanceof Promise)) return void next(value);
  return value.then(next, (error) => {
    logger.warn("store-step-failed", { error: String(error) });
    throw error;
  });
}

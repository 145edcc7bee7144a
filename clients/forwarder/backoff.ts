// Retry delays: exponential with "equal jitter" (half the step fixed, half random), so retries of many
// forwarders spread out while each still waits at least half the exponential step.

export interface BackoffOptions {
  /** First delay (ms). */
  initialMs: number;
  /** Ceiling of the exponential step (ms). */
  maxMs: number;
  /** Growth per attempt; default 2. */
  factor?: number;
}

/** Delay before retry number `attempt` (0 for the first retry). `random` returns [0, 1). */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const step = Math.min(o.maxMs, o.initialMs * (o.factor ?? 2) ** Math.min(attempt, 52));
  return Math.round(step / 2 + random() * (step / 2));
}

/** A sleep that a signal can cut short (resolves early, never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

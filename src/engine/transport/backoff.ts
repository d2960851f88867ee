export interface BackoffOptions {
  /** First delay (ms). */
  initialMs?: number;
  /** Cap (ms). */
  maxMs?: number;
  factor?: number;
  /** Fraction of each delay that is randomised (0..1), so many tills don't reconnect in lockstep. */
  jitter?: number;
}

/** Exponential backoff with jitter, capped. */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private attempt = 0;

  constructor(
    opts: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialMs = opts.initialMs ?? 1000;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.3));
  }

  /** Delay before the next attempt; grows with every call until reset. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * Math.pow(this.factor, this.attempt));
    this.attempt++;
    return Math.round(base * (1 - this.jitter * this.random()));
  }

  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}

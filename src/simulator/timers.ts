/** Every timer the simulator starts goes through one Scheduler, so stop() can clear them all. */

export type Cancel = () => void;
export const noop: Cancel = () => undefined;

export class Scheduler {
  private readonly timeouts = new Set<NodeJS.Timeout>();
  private readonly immediates = new Set<NodeJS.Immediate>();
  private closed = false;

  /** @param stepMs pause between terminal steps; 0 chains them with setImmediate (no timers). */
  constructor(readonly stepMs: number) {}

  after(ms: number, fn: () => void): Cancel {
    if (this.closed) return noop;
    const t = setTimeout(() => {
      this.timeouts.delete(t);
      fn();
    }, ms);
    this.timeouts.add(t);
    return () => {
      clearTimeout(t);
      this.timeouts.delete(t);
    };
  }

  soon(fn: () => void): Cancel {
    if (this.closed) return noop;
    const i = setImmediate(() => {
      this.immediates.delete(i);
      fn();
    });
    this.immediates.add(i);
    return () => {
      clearImmediate(i);
      this.immediates.delete(i);
    };
  }

  /** Resolves after one step. After close() it never resolves, which halts any running script. */
  pace(): Promise<void> {
    return new Promise((resolve) => {
      if (this.stepMs > 0) this.after(this.stepMs, resolve);
      else this.soon(resolve);
    });
  }

  close(): void {
    this.closed = true;
    for (const t of this.timeouts) clearTimeout(t);
    for (const i of this.immediates) clearImmediate(i);
    this.timeouts.clear();
    this.immediates.clear();
  }
}

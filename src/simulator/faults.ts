/** Fault injection: the misbehaviours a client must survive, switched on by tests. */
import type { EposRequestMethod, NotificationValue } from "../protocol";

/**
 * Faults apply to every EPOS connection. The `drop*` faults terminate the socket abruptly (the client
 * sees close code 1006) and are one-shot: they fire once and then switch themselves off. The others
 * stay on until changed or `clear()`ed.
 *
 * - `dropBeforeResponse`: process a request of this method but terminate instead of answering, e.g.
 *   `"CreatePayment"`: the payment is created and runs on the terminal while the EPOS never saw the ack.
 * - `dropAfterNotification`: terminate right after this TerminalNotification value is sent.
 * - `dropOnSignatureRequest`: terminate right after a SignatureVerification request is sent.
 * - `dropAfterRecord`: terminate right after a RecordPayment/RecordRefund is sent.
 * - `delayResponse`: answer these methods N ms late (the request is processed at once; a
 *   CreatePayment's transaction starts when its ack is sent).
 * - `omitResponse`: process these methods but never answer them.
 * - `duplicateRecords`: send every record delivery twice (two request ids).
 * - `ignoreRecordAcks`: for each record, treat its first N acknowledgements as lost, so it is
 *   redelivered N times after the retry interval.
 * - `noPong`: stop answering the EPOS's WebSocket pings.
 *
 * Raw frames (malformed or oversized) are sent with `PacSimulator.sendRaw`.
 */
export interface SimFaultConfig {
  dropBeforeResponse?: EposRequestMethod;
  dropAfterNotification?: NotificationValue;
  dropOnSignatureRequest?: boolean;
  dropAfterRecord?: boolean;
  delayResponse?: Partial<Record<EposRequestMethod, number>>;
  omitResponse?: readonly EposRequestMethod[];
  duplicateRecords?: boolean;
  ignoreRecordAcks?: number;
  noPong?: boolean;
}

export class SimulatorFaults {
  private config: SimFaultConfig = {};

  constructor(initial?: SimFaultConfig) {
    if (initial) this.set(initial);
  }

  /** Merge faults into the active set (`undefined` values switch a fault off). */
  set(faults: SimFaultConfig): void {
    this.config = { ...this.config, ...faults };
  }

  clear(): void {
    this.config = {};
  }

  get current(): Readonly<SimFaultConfig> {
    return this.config;
  }

  // ---- queries used by the simulator; take* consume a one-shot fault ----

  takeDropBeforeResponse(method: string): boolean {
    return this.take("dropBeforeResponse", this.config.dropBeforeResponse === method);
  }

  takeDropAfterNotification(value: string): boolean {
    return this.take("dropAfterNotification", this.config.dropAfterNotification === value);
  }

  takeDropOnSignatureRequest(): boolean {
    return this.take("dropOnSignatureRequest", this.config.dropOnSignatureRequest === true);
  }

  takeDropAfterRecord(): boolean {
    return this.take("dropAfterRecord", this.config.dropAfterRecord === true);
  }

  responseDelay(method: string): number {
    const delays: Partial<Record<string, number>> = this.config.delayResponse ?? {};
    return delays[method] ?? 0;
  }

  omitsResponse(method: string): boolean {
    return (this.config.omitResponse ?? []).some((m) => m === method);
  }

  get duplicateRecords(): boolean {
    return this.config.duplicateRecords === true;
  }

  get ignoredAcksPerRecord(): number {
    return this.config.ignoreRecordAcks ?? 0;
  }

  get noPong(): boolean {
    return this.config.noPong === true;
  }

  private take(key: keyof SimFaultConfig, hit: boolean): boolean {
    if (hit) this.config = { ...this.config, [key]: undefined };
    return hit;
  }
}

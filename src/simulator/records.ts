/**
 * RecordPayment / RecordRefund delivery (contract §4): a record is resent every retry interval until
 * the EPOS answers with success or PAYMENT_ALREADY_RECORDED. Pending records belong to an
 * account+epos-id, survive disconnects, and are redelivered at once when that epos-id reconnects.
 */
import { ERROR_CODE, SUCCESS_STATUSES, encodeRequest } from "../protocol";
import type { RecordParams, METHOD } from "../protocol";
import { acquirerReceipt } from "./acquirer-receipt";
import type { SimulatorFaults } from "./faults";
import type { OutboundRequests, Reply } from "./outbound";
import { noop } from "./timers";
import type { Cancel } from "./timers";
import type { SimPayment } from "./types";

export type RecordMethod = typeof METHOD.recordPayment | typeof METHOD.recordRefund;

export interface PendingRecord {
  readonly key: string;
  readonly method: RecordMethod;
  readonly params: RecordParams;
}

interface Entry extends PendingRecord {
  ids: number[];
  ignoredAcks: number;
  cancelRetry: Cancel;
}

export interface RecordDeps {
  outbound: OutboundRequests;
  faults: SimulatorFaults;
  retryMs: number;
  /** Send to the current connection of `key`; false when it has none. */
  send(key: string, text: string): boolean;
  /** Terminate the current connection of `key` (fault injection). */
  drop(key: string): void;
  after(ms: number, fn: () => void): Cancel;
  sent(record: PendingRecord): void;
  acked(record: PendingRecord): void;
}

/** The record as the simulator sends it: every record field; authCode only when approved. */
export function recordOf(p: SimPayment): RecordParams {
  const successful = SUCCESS_STATUSES.has(p.status);
  return {
    paymentId: p.paymentId,
    terminalId: p.terminalId,
    captureMode: p.captureMode,
    baseAmount: p.baseAmount,
    tipsAmount: p.tipsAmount,
    cashbackAmount: p.cashbackAmount,
    currency: p.currency,
    paymentSuccessful: successful,
    status: p.status,
    attemptedAt: p.attemptedAt,
    ...(successful && p.authCode ? { authCode: p.authCode } : {}),
    ...(p.card ? { card: { ...p.card } } : {}),
    ...receiptFields(p),
  };
}

/** §7a: what the terminal adds for a receipt (all optional on the wire). */
function receiptFields(p: SimPayment): Pick<RecordParams, "transactionNumber" | "transactionTime" | "receiptLines"> {
  const lines = acquirerReceipt(p);
  return {
    ...(p.transactionNumber ? { transactionNumber: p.transactionNumber } : {}),
    ...(p.transactionTime ? { transactionTime: p.transactionTime } : {}),
    ...(lines ? { receiptLines: lines } : {}),
  };
}

export class RecordQueue {
  private readonly byKey = new Map<string, Map<string, Entry>>();

  constructor(private readonly deps: RecordDeps) {}

  enqueue(key: string, method: RecordMethod, params: RecordParams): void {
    let forKey = this.byKey.get(key);
    if (!forKey) this.byKey.set(key, (forKey = new Map<string, Entry>()));
    const entry: Entry = { key, method, params, ids: [], ignoredAcks: 0, cancelRetry: noop };
    forKey.set(params.paymentId, entry);
    this.deliver(entry);
  }

  /** The epos-id (re)connected: deliver everything it has pending. */
  connected(key: string): void {
    for (const entry of this.byKey.get(key)?.values() ?? []) this.deliver(entry);
  }

  pending(key: string): PendingRecord[] {
    return [...(this.byKey.get(key)?.values() ?? [])].map(({ key: k, method, params }) => ({ key: k, method, params }));
  }

  private deliver(entry: Entry): void {
    entry.cancelRetry();
    entry.cancelRetry = noop;
    const copies = this.deps.faults.duplicateRecords ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const id = this.deps.outbound.register(entry.key, (reply) => this.settle(entry, reply));
      if (!this.deps.send(entry.key, encodeRequest(id, entry.method, entry.params))) {
        // Not connected: wait for the epos-id to reconnect rather than polling.
        this.deps.outbound.forget(id);
        return;
      }
      entry.ids.push(id);
      this.deps.sent(entry);
    }
    entry.cancelRetry = this.deps.after(this.deps.retryMs, () => this.deliver(entry));
    if (this.deps.faults.takeDropAfterRecord()) this.deps.drop(entry.key);
  }

  private settle(entry: Entry, reply: Reply): void {
    const forKey = this.byKey.get(entry.key);
    if (forKey?.get(entry.params.paymentId) !== entry) return; // already settled
    const stops = reply.ok || reply.error.code === ERROR_CODE.PAYMENT_ALREADY_RECORDED;
    if (!stops) return; // any other error: the retry timer redelivers it
    if (entry.ignoredAcks < this.deps.faults.ignoredAcksPerRecord) {
      entry.ignoredAcks++; // fault: this ack is "lost"
      return;
    }
    entry.cancelRetry();
    forKey.delete(entry.params.paymentId);
    if (forKey.size === 0) this.byKey.delete(entry.key);
    for (const id of entry.ids) this.deps.outbound.forget(id);
    this.deps.acked(entry);
  }
}

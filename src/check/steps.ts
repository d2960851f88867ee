/**
 * The scripted sequence of a check (issue 17): each step says what a person must do at the terminal
 * (when a person runs it) and which magic amount drives our simulator (with --auto), sends its
 * requests through the session and waits, bounded by the step timeout.
 */
import { randomUUID } from "node:crypto";
import { CAPTURE_MODE, CLOSE_DISPLACED, FIELD, METHOD, NOTIFICATION, TERMINAL_STATUS, readTerminals } from "../protocol";
import type { JsonObject } from "../protocol";
import { protocolLine } from "./locate";
import type { CheckSession } from "./session";

export interface StepContext {
  session: CheckSession;
  terminalId: string;
  currency: string;
  auto: boolean;
  stepTimeoutMs: number;
  requestTimeoutMs: number;
  redeliveryWaitMs: number;
  /** paymentIds made by earlier steps, by step name. */
  made: Map<string, string>;
  observe(name: string, value: string): void;
}

export interface StepDef {
  name: string;
  title: string;
  /** What a person does at the terminal; undefined: nothing (the step runs on its own). */
  person?: (ctx: StepContext) => string;
  /** Steps whose payment this one needs. */
  needs?: string;
  run(ctx: StepContext): Promise<StepEnd>;
}

export type StepEnd = { status: "done"; note?: string } | { status: "timeout"; note: string } | { status: "skipped"; note: string };

const money = (minor: number, currency: string): string => `${(minor / 100).toFixed(2)} ${currency}`;

/** Amounts: the last two digits choose the simulator's scenario (00 approve, 01 decline, 02 signature, 03 wait at PRESENT_CARD). */
const AMOUNT = { sale: 100, decline: 101, signature: 102, cancel: 103, preauth: 200, preauthUpdated: 250, refund: 100 } as const;

async function getPayment(ctx: StepContext, paymentId: string): Promise<void> {
  await ctx.session.call(METHOD.getPayment, { paymentId }, { kind: "result" }, ctx.requestTimeoutMs);
}

/** Create a payment or refund and wait for its record; "timeout" when none came within the step timeout. */
async function transaction(
  ctx: StepContext,
  step: string,
  method: typeof METHOD.createPayment | typeof METHOD.createRefund,
  params: JsonObject,
  hold = false,
): Promise<StepEnd & { paymentId: string; record?: JsonObject }> {
  const paymentId = randomUUID();
  ctx.made.set(step, paymentId);
  if (hold) ctx.session.holdBackFirstRecord(paymentId);
  const ack = await ctx.session.call(
    method,
    { paymentId, terminalId: ctx.terminalId, currency: ctx.currency, ...params },
    { kind: "result" },
    ctx.requestTimeoutMs,
  );
  if (!ack.ok) return { status: "done", note: `not started: ${ack.reason}`, paymentId };
  const got = await ctx.session.until(() => ctx.session.records.has(paymentId), ctx.stepTimeoutMs);
  if (!got) {
    // The terminal may still wait for a card: free it for the next step.
    await ctx.session.tidy(paymentId, ctx.terminalId, ctx.requestTimeoutMs);
    const record = method === METHOD.createRefund ? "RecordRefund" : "RecordPayment";
    return { status: "timeout", note: `no ${record} within ${ctx.stepTimeoutMs / 1000} s; cancelled`, paymentId };
  }
  return { status: "done", paymentId, record: ctx.session.records.get(paymentId)?.params };
}

const outcome = (record: JsonObject | undefined): string =>
  record ? `${String(record[FIELD.status])}${record[FIELD.paymentSuccessful] === true ? " (successful)" : ""}` : "";

export const STEPS: readonly StepDef[] = [
  {
    name: "connected-terminals",
    title: "ConnectedTerminals",
    async run(ctx) {
      const r = await ctx.session.call(METHOD.connectedTerminals, {}, { kind: "result" }, ctx.requestTimeoutMs);
      // No --terminal: the first available one.
      if (r.ok && !ctx.terminalId) ctx.terminalId = readTerminals(r.result).find((t) => t.status === TERMINAL_STATUS.AVAILABLE)?.terminalId ?? "";
      return {
        status: "done",
        note: r.ok ? `${Array.isArray(r.result[FIELD.terminals]) ? (r.result[FIELD.terminals] as unknown[]).length : 0} terminal(s)` : r.reason,
      };
    },
  },
  {
    name: "terminal-details",
    title: "TerminalDetails",
    async run(ctx) {
      const r = await ctx.session.call(METHOD.terminalDetails, { terminalId: ctx.terminalId }, { kind: "result" }, ctx.requestTimeoutMs);
      return { status: "done", note: r.ok ? `status ${String(r.result[FIELD.status])}` : r.reason };
    },
  },
  {
    name: "sale",
    title: "A small sale (its first RecordPayment is not answered: the redelivery is timed)",
    person: (ctx) => `Terminal ${ctx.terminalId} will ask for ${money(AMOUNT.sale, ctx.currency)}: tap or insert a card that approves, then remove it.`,
    async run(ctx) {
      const t = await transaction(ctx, "sale", METHOD.createPayment, { captureMode: CAPTURE_MODE.AUTO, baseAmount: AMOUNT.sale }, true);
      if (t.status !== "done" || !t.record) return t.status === "done" ? t : { status: t.status, note: t.note };
      const s = ctx.session;
      const again = await s.until(() => (s.records.get(t.paymentId)?.deliveries.length ?? 0) >= 2, ctx.redeliveryWaitMs);
      const d = s.records.get(t.paymentId)?.deliveries ?? [];
      if (again) {
        ctx.observe("record redelivery interval", `${d[1] - d[0]} ms (RecordPayment not answered, sent again)`);
      } else {
        s.ackHeld(t.paymentId);
        s.note([
          {
            operation: METHOD.recordPayment,
            path: "",
            kind: "timing",
            expected: "redelivered when not answered [C]",
            got: `not redelivered within ${ctx.redeliveryWaitMs / 1000} s`,
            fix: protocolLine(
              "wire",
              "export const ERROR_CODE",
              "the redelivery rule (contract §4): raise --redelivery-wait if Dojo's interval is longer",
              "PAYMENT_ALREADY_RECORDED",
            ),
          },
        ]);
      }
      await getPayment(ctx, t.paymentId);
      return { status: "done", note: outcome(t.record) };
    },
  },
  {
    name: "decline",
    title: "A declined sale",
    person: (ctx) => `Terminal ${ctx.terminalId} will ask for ${money(AMOUNT.decline, ctx.currency)}: make it decline (a test card that declines).`,
    async run(ctx) {
      const t = await transaction(ctx, "decline", METHOD.createPayment, { captureMode: CAPTURE_MODE.AUTO, baseAmount: AMOUNT.decline });
      if (t.status !== "done") return t;
      await getPayment(ctx, t.paymentId);
      const declined = t.record?.[FIELD.paymentSuccessful] === false;
      return { status: "done", note: `${outcome(t.record)}${declined ? "" : " (expected a decline)"}` };
    },
  },
  {
    name: "cancel",
    title: "A sale cancelled at PRESENT_CARD",
    person: (ctx) =>
      `Terminal ${ctx.terminalId} will ask for ${money(AMOUNT.cancel, ctx.currency)}: do NOT present a card; the check cancels it from the till.`,
    async run(ctx) {
      const s = ctx.session;
      const paymentId = randomUUID();
      ctx.made.set("cancel", paymentId);
      const ack = await s.call(
        METHOD.createPayment,
        { paymentId, terminalId: ctx.terminalId, currency: ctx.currency, captureMode: CAPTURE_MODE.AUTO, baseAmount: AMOUNT.cancel },
        { kind: "result" },
        ctx.requestTimeoutMs,
      );
      if (!ack.ok) return { status: "done", note: `not started: ${ack.reason}` };
      const atCard = await s.until(() => (s.notifications.get(paymentId) ?? []).includes(NOTIFICATION.PRESENT_CARD), ctx.stepTimeoutMs);
      if (!atCard) {
        // No PRESENT_CARD seen (another value or field name?): cancel anyway, so the terminal is free.
        await s.tidy(paymentId, ctx.terminalId, ctx.requestTimeoutMs);
        const seen = (s.notifications.get(paymentId) ?? []).join(", ") || "none";
        return { status: "timeout", note: `no PRESENT_CARD within ${ctx.stepTimeoutMs / 1000} s (seen: ${seen}); cancelled` };
      }
      const c = await s.call(METHOD.cancelPayment, { paymentId, terminalId: ctx.terminalId }, { kind: "result" }, ctx.requestTimeoutMs);
      const ended = await s.until(() => s.records.has(paymentId), ctx.stepTimeoutMs);
      await getPayment(ctx, paymentId);
      if (!ended) return { status: "timeout", note: `cancel ${c.ok ? "accepted" : "refused"}; no RecordPayment within ${ctx.stepTimeoutMs / 1000} s` };
      return { status: "done", note: `cancel ${c.ok ? "accepted" : "refused"}; ${outcome(s.records.get(paymentId)?.params)}` };
    },
  },
  {
    name: "preauth",
    title: "A pre-auth, updated, then captured",
    person: (ctx) =>
      `Terminal ${ctx.terminalId} will ask for ${money(AMOUNT.preauth, ctx.currency)} (a pre-authorisation): tap or insert a card that approves.`,
    async run(ctx) {
      const t = await transaction(ctx, "preauth", METHOD.createPayment, { captureMode: CAPTURE_MODE.MANUAL, baseAmount: AMOUNT.preauth });
      if (t.status !== "done") return t;
      const s = ctx.session;
      const u = await s.call(METHOD.updatePayment, { paymentId: t.paymentId, baseAmount: AMOUNT.preauthUpdated }, { kind: "result" }, ctx.requestTimeoutMs);
      const c = await s.call(METHOD.capturePayment, { paymentId: t.paymentId, baseAmount: AMOUNT.preauthUpdated }, { kind: "result" }, ctx.requestTimeoutMs);
      await getPayment(ctx, t.paymentId);
      return { status: "done", note: `${outcome(t.record)}; update ${u.ok ? "ok" : "refused"}; capture ${c.ok ? "ok" : "refused"}` };
    },
  },
  {
    name: "refund",
    title: "A refund",
    person: (ctx) => `Terminal ${ctx.terminalId} will refund ${money(AMOUNT.refund, ctx.currency)}: present the card.`,
    async run(ctx) {
      const t = await transaction(ctx, "refund", METHOD.createRefund, { baseAmount: AMOUNT.refund });
      if (t.status !== "done") return t;
      await getPayment(ctx, t.paymentId);
      return { status: "done", note: outcome(t.record) };
    },
  },
  {
    name: "signature",
    title: "A sale with a signature check (if the terminal offers one)",
    person: (ctx) =>
      `Terminal ${ctx.terminalId} will ask for ${money(AMOUNT.signature, ctx.currency)}: use a card that asks for a signature (skip if your terminal has none). The check accepts the signature.`,
    async run(ctx) {
      const t = await transaction(ctx, "signature", METHOD.createPayment, { captureMode: CAPTURE_MODE.AUTO, baseAmount: AMOUNT.signature });
      if (t.status !== "done") return t;
      await getPayment(ctx, t.paymentId);
      const asked = ctx.session.signatureRequests.get(t.paymentId);
      if (asked) ctx.observe("signature timeout announced", `${asked.timeout} s`);
      return { status: "done", note: `${outcome(t.record)}; ${asked ? "SignatureVerification answered (accepted)" : "the terminal asked for no signature"}` };
    },
  },
  {
    name: "duplicate-payment-id",
    title: "CreatePayment with a paymentId already used (expected refusal)",
    needs: "sale",
    async run(ctx) {
      const used = ctx.made.get("sale") ?? "";
      const s = ctx.session;
      const r = await s.call(
        METHOD.createPayment,
        { paymentId: used, terminalId: ctx.terminalId, currency: ctx.currency, captureMode: CAPTURE_MODE.AUTO, baseAmount: AMOUNT.sale },
        { kind: "error", name: "DUPLICATE_PAYMENT_ID" },
        ctx.requestTimeoutMs,
      );
      if (r.ok) {
        // Accepted: a payment may be running on the terminal; cancel it while it waits for the card.
        const before = (s.notifications.get(used) ?? []).length;
        const atCard = await s.until(() => (s.notifications.get(used) ?? []).slice(before).includes(NOTIFICATION.PRESENT_CARD), ctx.stepTimeoutMs);
        if (atCard) await s.call(METHOD.cancelPayment, { paymentId: used, terminalId: ctx.terminalId }, { kind: "result" }, ctx.requestTimeoutMs);
        return { status: "done", note: "accepted (see deviations); cancelled at PRESENT_CARD" };
      }
      return { status: "done", note: r.error ? `refused: ${r.error.code} ${r.error.message}` : r.reason };
    },
  },
  {
    name: "capture-sale",
    title: "CapturePayment of a sale (expected refusal)",
    needs: "sale",
    async run(ctx) {
      const r = await ctx.session.call(
        METHOD.capturePayment,
        { paymentId: ctx.made.get("sale") ?? "", baseAmount: AMOUNT.sale },
        { kind: "error", name: "INVALID_STATE" },
        ctx.requestTimeoutMs,
      );
      return { status: "done", note: r.ok ? "accepted (see deviations)" : r.error ? `refused: ${r.error.code} ${r.error.message}` : r.reason };
    },
  },
  {
    name: "unknown-terminal",
    title: "TerminalDetails and CreatePayment on an unknown terminal (expected refusal)",
    async run(ctx) {
      const unknown = "CHECK-NO-SUCH-TERMINAL";
      const expect = { kind: "error", name: "INVALID_PARAMS" } as const;
      const d = await ctx.session.call(METHOD.terminalDetails, { terminalId: unknown }, expect, ctx.requestTimeoutMs);
      const c = await ctx.session.call(
        METHOD.createPayment,
        { paymentId: randomUUID(), terminalId: unknown, currency: ctx.currency, captureMode: CAPTURE_MODE.AUTO, baseAmount: AMOUNT.sale },
        expect,
        ctx.requestTimeoutMs,
      );
      return { status: "done", note: `TerminalDetails ${d.ok ? "accepted" : "refused"}; CreatePayment ${c.ok ? "accepted" : "refused"}` };
    },
  },
  {
    name: "displaced",
    title: "A second connection with the same epos-id (the first is closed)",
    async run(ctx) {
      const seen = await ctx.session.displace(ctx.stepTimeoutMs);
      const ok = seen.code === CLOSE_DISPLACED.code && seen.reason === CLOSE_DISPLACED.reason;
      if (!ok) {
        ctx.session.note([
          {
            operation: "close (displaced connection)",
            path: "close",
            kind: "close-code",
            expected: `${CLOSE_DISPLACED.code} "${CLOSE_DISPLACED.reason}"`,
            got: seen.code === undefined ? seen.reason : `${seen.code} "${seen.reason}"`,
            fix: protocolLine("wire", "export const CLOSE_DISPLACED", "the close code and reason Dojo uses"),
          },
        ]);
      }
      return { status: "done", note: seen.code === undefined ? seen.reason : `closed ${seen.code} "${seen.reason}"` };
    },
  },
];

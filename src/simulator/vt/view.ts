/**
 * What a virtual terminal's screen says, in plain words, computed from a snapshot. The server sends
 * it with every snapshot so the page only has to paint it (and tests can check the wording).
 */
import { formatMoney } from "../../common/money";
import { NOTIFICATION, PAYMENT_STATUS, TERMINAL_STATUS } from "../../protocol";
import type { SimSignatureState, SimTerminalAction, SimTerminalSnapshot } from "../types";

/** Colour family of the screen: what the person at the terminal should notice. */
export type VtTone = "idle" | "waiting" | "busy" | "ok" | "bad" | "offline";

export interface VtView {
  /** The terminal's big line: "Present card", "Enter PIN", "Signature?", "Approved £12.50", "Declined"… */
  headline: string;
  /** "£12.50" (empty when no transaction has run yet). */
  amount: string;
  /** "Payment" / "Refund" and the payment id (shortened), or "No transaction yet". */
  detail: string;
  /** The whole payment id (the page shows it on hover), when there is one. */
  paymentId?: string;
  /** The action a person would normally take next (the page highlights its button). */
  next?: SimTerminalAction;
  /** What can be done now, e.g. "Tap or insert the card". */
  hint: string;
  /** The transaction's signature question and the till's answer (empty when none was asked). */
  signature: string;
  /** "Available" / "Busy" / "Offline". */
  status: string;
  tone: VtTone;
}

/** Button labels and the group each action sits in (the page shows them in this order). */
export const VT_ACTIONS: ReadonlyArray<{ action: SimTerminalAction; label: string; group: "customer" | "bank" }> = [
  { action: "present", label: "Tap card", group: "customer" },
  { action: "insert", label: "Insert card", group: "customer" },
  { action: "enterPin", label: "Enter PIN", group: "customer" },
  { action: "removeCard", label: "Remove card", group: "customer" },
  { action: "approve", label: "Approve", group: "bank" },
  { action: "decline", label: "Decline", group: "bank" },
  { action: "requestSignature", label: "Ask for signature", group: "bank" },
  { action: "fail", label: "Processing error", group: "bank" },
];

const ACTION_SET: ReadonlySet<string> = new Set(VT_ACTIONS.map((a) => a.action));

export function isVtAction(v: unknown): v is SimTerminalAction {
  return typeof v === "string" && ACTION_SET.has(v);
}

export function actionLabel(action: SimTerminalAction): string {
  return VT_ACTIONS.find((a) => a.action === action)?.label ?? action;
}

/** Minor units → "£12.50", "JP¥1,250": the package's one money formatter, under the name this module exported. */
export const formatAmount = formatMoney;

const STATUS_TEXT: Readonly<Record<string, string>> = {
  [TERMINAL_STATUS.AVAILABLE]: "Available",
  [TERMINAL_STATUS.BUSY]: "Busy",
  [TERMINAL_STATUS.OFFLINE]: "Offline",
};

/** The outcome of a finished (or concluded) transaction as the terminal shows it. */
function outcome(t: SimTerminalSnapshot, amount: string): { headline: string; tone: VtTone } | undefined {
  switch (t.result) {
    case PAYMENT_STATUS.CAPTURED:
    case PAYMENT_STATUS.AUTHORIZED:
      return { headline: `Approved ${amount}`.trim(), tone: "ok" };
    case PAYMENT_STATUS.REFUNDED:
      return { headline: `Refunded ${amount}`.trim(), tone: "ok" };
    case PAYMENT_STATUS.DECLINED:
      return { headline: "Declined", tone: "bad" };
    case PAYMENT_STATUS.FAILED:
      return { headline: "Error: not processed", tone: "bad" };
    case PAYMENT_STATUS.CANCELLED:
      return { headline: "Cancelled", tone: "bad" };
    case PAYMENT_STATUS.REVERSED:
      return { headline: "Reversed", tone: "bad" };
    default:
      return undefined;
  }
}

/** Between two waiting steps: what the last notification put on the screen. */
function transient(t: SimTerminalSnapshot, amount: string): { headline: string; tone: VtTone } {
  switch (t.lastNotification) {
    case NOTIFICATION.PRESENT_CARD:
      return { headline: "Present card", tone: "waiting" };
    case NOTIFICATION.INSERT_CARD:
      return { headline: "Card inserted", tone: "busy" };
    case NOTIFICATION.PIN_ENTRY:
      return { headline: "Enter PIN", tone: "waiting" };
    case NOTIFICATION.SIGNATURE_VERIFICATION:
      return { headline: "Signature?", tone: "waiting" };
    case NOTIFICATION.SIGNATURE_VERIFICATION_TIMEOUT:
      return { headline: "Signature: no answer", tone: "busy" };
    case NOTIFICATION.SIGNATURE_VERIFICATION_PROCESS_COMPLETED:
      return { headline: "Signature checked", tone: "busy" };
    case NOTIFICATION.APPROVED:
      return { headline: `Approved ${amount}`.trim(), tone: "ok" };
    case NOTIFICATION.DECLINED:
      return { headline: "Declined", tone: "bad" };
    case NOTIFICATION.PROCESSING_ERROR:
      return { headline: "Error: not processed", tone: "bad" };
    case NOTIFICATION.CANCELLING:
      return { headline: "Cancelling…", tone: "busy" };
    case NOTIFICATION.REMOVE_CARD:
      return { headline: "Remove card", tone: "waiting" };
    case NOTIFICATION.TRANSACTION_FINISHED:
      return outcome(t, amount) ?? { headline: "Finished", tone: "idle" };
    default:
      return { headline: "Please wait…", tone: "busy" };
  }
}

/** The signature question as the screen keeps it, however fast the till answered. */
const SIGNATURE_TEXT: Readonly<Record<SimSignatureState, string>> = {
  asked: "Signature asked: waiting for the till",
  accepted: "Signature asked: the till accepted it",
  declined: "Signature asked: the till refused it",
  timeout: "Signature asked: no answer in time (counts as accepted)",
};

/** A long (UUID) payment id as the screen shows it: its first 8 characters. */
export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

/** At each waiting step, what a person would normally do next. */
const NEXT: Readonly<Partial<Record<string, SimTerminalAction>>> = {
  presentCard: "present",
  pinEntry: "enterPin",
  authorising: "approve",
  removeCard: "removeCard",
};

/** Plain-words view of a terminal snapshot. */
export function describeTerminal(t: SimTerminalSnapshot): VtView {
  const amount = formatAmount(t.amount, t.currency);
  const status = STATUS_TEXT[t.status] ?? String(t.status);
  const kind = t.kind === "refund" ? "Refund" : "Payment";
  const detail = t.paymentId ? `${kind} ${shortId(t.paymentId)}${t.step === "idle" ? " (last)" : ""}` : "No transaction yet";
  const automatic = !t.manual;
  const auto = (text: string): string => (automatic ? "Automatic: the amount decides. You can still act first." : text);
  let view: { headline: string; tone: VtTone; hint: string };
  switch (t.step) {
    case "idle": {
      const last = t.paymentId ? outcome(t, amount) : undefined;
      if (!t.online) view = { headline: "Offline", tone: "offline", hint: "New payments are refused (TERMINAL_OFFLINE)." };
      else if (last) view = { ...last, hint: "Waiting for the till to start a payment." };
      else view = { headline: "Ready", tone: "idle", hint: "Waiting for the till to start a payment." };
      break;
    }
    case "starting":
      view = { headline: "Starting…", tone: "busy", hint: "" };
      break;
    case "presentCard":
      view = { headline: "Present card", tone: "waiting", hint: auto("Tap or insert the card, or decline.") };
      break;
    case "pinEntry":
      view = { headline: "Enter PIN", tone: "waiting", hint: auto("Enter the PIN, or decline.") };
      break;
    case "authorising":
      view = {
        headline: "Authorising…",
        tone: "waiting",
        hint: auto("The bank decides: approve, decline, ask for a signature, or fail."),
      };
      break;
    case "signature":
      view = { headline: "Signature?", tone: "waiting", hint: "The till checks the signature and accepts or refuses it." };
      break;
    case "removeCard": {
      const last = outcome(t, amount);
      view = {
        headline: last ? `${last.headline} · Remove card` : "Remove card",
        tone: last?.tone ?? "waiting",
        hint: auto("Take the card out to finish."),
      };
      break;
    }
    case "processing":
      view = { ...transient(t, amount), hint: "" };
      break;
    default:
      view = { headline: String(t.step), tone: "busy", hint: "" };
  }
  if (!t.online && t.step !== "idle") {
    // Mid-payment: say what offline means here (the card buttons are off: nothing can be read).
    view = {
      ...view,
      tone: "offline",
      hint: "Offline: this terminal cannot reach the bank, so it takes no card. Put it back online, or the till cancels the payment.",
    };
  }
  const next = NEXT[t.step];
  return {
    ...view,
    amount,
    detail,
    status,
    signature: t.signature ? SIGNATURE_TEXT[t.signature] : "",
    ...(t.paymentId ? { paymentId: t.paymentId } : {}),
    ...(next && t.allowedActions.includes(next) ? { next } : {}),
  };
}

/** One terminal with its view, as the page's API and event stream send it. */
export interface VtItem {
  terminal: SimTerminalSnapshot;
  view: VtView;
}

export function item(t: SimTerminalSnapshot): VtItem {
  return { terminal: t, view: describeTerminal(t) };
}

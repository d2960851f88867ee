/**
 * Magic amounts: the last two digits of `baseAmount` choose what the customer and the card network do
 * in automatic mode. A scenario maps each waiting step to the action taken there; a step with no
 * action waits (for CancelPayment, or the present-card timeout).
 */
import { randomInt } from "crypto";
import { formatMoney } from "../common/money";
import type { CardInfo } from "../protocol";
import type { SimPayment, SimTerminalAction, SimTerminalStep } from "./types";

export interface Scenario {
  readonly name: string;
  readonly next: Readonly<Partial<Record<SimTerminalStep, SimTerminalAction>>>;
}

/** What happens at steps a scenario does not script (e.g. after a test pre-empts it with `act`). */
const DEFAULT_NEXT = { pinEntry: "enterPin", authorising: "approve", removeCard: "removeCard" } as const;

export const SCENARIOS = {
  approve: { name: "approve (contactless)", next: { ...DEFAULT_NEXT, presentCard: "present" } },
  decline: { name: "decline", next: { ...DEFAULT_NEXT, presentCard: "present", authorising: "decline" } },
  signature: {
    name: "signature required",
    next: { ...DEFAULT_NEXT, presentCard: "present", authorising: "requestSignature" },
  },
  waitAtPresentCard: { name: "wait at PRESENT_CARD", next: { ...DEFAULT_NEXT } },
  processingError: { name: "processing error", next: { ...DEFAULT_NEXT, presentCard: "present", authorising: "fail" } },
  chipAndPin: { name: "chip and PIN", next: { ...DEFAULT_NEXT, presentCard: "insert" } },
} as const satisfies Record<string, Scenario>;

/** Last two digits of the amount → scenario; any other ending approves. */
export const MAGIC_AMOUNTS: Readonly<Record<number, Scenario>> = {
  0: SCENARIOS.approve,
  1: SCENARIOS.decline,
  2: SCENARIOS.signature,
  3: SCENARIOS.waitAtPresentCard,
  4: SCENARIOS.processingError,
  5: SCENARIOS.chipAndPin,
};

export function scenarioFor(baseAmount: number): Scenario {
  return MAGIC_AMOUNTS[Math.abs(Math.trunc(baseAmount)) % 100] ?? SCENARIOS.approve;
}

/**
 * The most a virtual terminal approves in one transaction (minor units, base + tips + cashback):
 * above it the terminal declines, whatever the customer does, as a real terminal's ceiling does.
 * [M] The real ceiling is set per merchant by the acquirer; 99,999.99 is the usual display limit.
 */
export const TERMINAL_MAX_AMOUNT = 9_999_999;

/** The cards the virtual customer uses (test card numbers' last digits; the schemes' real EMV AIDs). */
export const TEST_CARDS: Readonly<Record<"contactless" | "chip", CardInfo>> = {
  contactless: { scheme: "VISA", last4: "0119", applicationId: "A0000000031010", applicationLabel: "VISA DEBIT", expiry: "12/29" },
  chip: { scheme: "MASTERCARD", last4: "4444", applicationId: "A0000000041010", applicationLabel: "MASTERCARD", expiry: "08/28" },
};

export function newAuthCode(): string {
  return String(randomInt(0, 1_000_000)).padStart(6, "0");
}

/** What the terminal would print on the signature slip. */
export function receiptLines(p: SimPayment): string[] {
  return [
    "DOJO PAC SIMULATOR",
    p.kind === "refund" ? "REFUND" : "SALE",
    `TERMINAL ${p.terminalId}`,
    `${p.card?.scheme ?? "CARD"} ****${p.card?.last4 ?? "0000"}`,
    `AMOUNT ${formatMoney(p.baseAmount, p.currency)}`,
    "PLEASE SIGN BELOW",
    "X____________________",
  ];
}

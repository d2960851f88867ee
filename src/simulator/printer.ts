/**
 * The virtual receipt printers: beside each virtual terminal, the last few slips a flow printed there
 * (a picture and the text of each), so the virtual terminal page shows the whole counter. Bounded in
 * count per terminal and in size per slip; the terminals themselves are the simulator's fixed set.
 */
import type { SimPrintedSlip, SimSlipInput } from "./types";

/** Slips kept per terminal (newest first); older ones fall off the end of the paper. */
export const MAX_SLIPS_PER_TERMINAL = 5;
/** Largest picture kept (characters of SVG): a bigger one is dropped and the slip's text shown instead. */
export const MAX_SLIP_SVG_CHARS = 256 * 1024;
/** Longest text kept (characters): the rest is cut, with a note. */
export const MAX_SLIP_TEXT_CHARS = 32 * 1024;
const MAX_ID_CHARS = 200;

function clip(s: unknown, max: number): string | undefined {
  if (typeof s !== "string" || s === "") return undefined;
  return s.length > max ? s.slice(0, max) : s;
}

function minor(v: unknown): number | undefined {
  return typeof v === "number" && Number.isSafeInteger(v) ? v : undefined;
}

/** One account's terminal's slips, keyed by account and terminal id. */
export class SlipTray {
  private readonly trays = new Map<string, SimPrintedSlip[]>();
  private nextId = 1;

  /**
   * @param known whether (accountName, terminalId) is one of the simulator's terminals
   * @param printed told of each slip kept (the virtual terminal page shows it)
   */
  constructor(
    private readonly known: (accountName: string, terminalId: string) => boolean,
    private readonly printed: (slip: SimPrintedSlip) => void,
  ) {}

  /** Keep a slip; undefined when its terminal is not one of ours. */
  add(accountName: string, input: SimSlipInput): SimPrintedSlip | undefined {
    const terminalId = clip(input.terminalId, MAX_ID_CHARS);
    if (!terminalId || !this.known(accountName, terminalId)) return undefined;
    const svg = typeof input.svg === "string" && input.svg.length <= MAX_SLIP_SVG_CHARS ? input.svg : undefined;
    let text = typeof input.text === "string" ? input.text : "";
    if (text.length > MAX_SLIP_TEXT_CHARS) text = `${text.slice(0, MAX_SLIP_TEXT_CHARS)}\n… (cut: longer than ${MAX_SLIP_TEXT_CHARS} characters)`;
    const slip: SimPrintedSlip = {
      id: this.nextId++,
      accountName,
      terminalId,
      at: new Date().toISOString(),
      text,
      ...(svg ? { svg } : {}),
    };
    const paymentId = clip(input.paymentId, MAX_ID_CHARS);
    if (paymentId) slip.paymentId = paymentId;
    const amount = minor(input.amount);
    const currency = clip(input.currency, 8);
    if (amount !== undefined && currency) Object.assign(slip, { amount, currency });
    const outcome = clip(input.outcome, 40);
    if (outcome) slip.outcome = outcome;
    const authCode = clip(input.authCode, 40);
    if (authCode) slip.authCode = authCode;
    const key = `${accountName}\u0000${terminalId}`;
    const tray = [slip, ...(this.trays.get(key) ?? [])].slice(0, MAX_SLIPS_PER_TERMINAL);
    this.trays.set(key, tray);
    this.printed(slip);
    return slip;
  }

  /** Every kept slip, newest first per terminal. */
  all(): SimPrintedSlip[] {
    return [...this.trays.values()].flat();
  }
}

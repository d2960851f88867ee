/** Errors as Catch nodes receive them: a message, a code and the payment concerned. */
import { PacError } from "../engine";

/**
 * What a Catch node receives, in the shape core nodes give: `msg.error` = {message, source, code}.
 * `message` is the plain text (toString() gives it without a "PacError:" prefix: Node-RED builds
 * msg.error.message from it), `code` the reason (INVALID_INPUT, NOT_CONNECTED, TIMEOUT,
 * CONNECTION_LOST, or Dojo's error name such as TERMINAL_BUSY); `paymentId`, when one is
 * concerned, reaches the flow as msg.paymentId (Node-RED copies only message, code and stack).
 * No stack: it would point into this package for a fault in the flow's input; an unexpected error
 * keeps the stack of where it happened.
 */
export class FlowError extends Error {
  readonly code: string;
  readonly paymentId?: string;
  constructor(code: string, message: string, paymentId?: string, stack?: string) {
    super(message);
    this.name = "PacError";
    this.code = code;
    if (paymentId !== undefined) this.paymentId = paymentId;
    if (stack === undefined) delete this.stack;
    else this.stack = stack;
  }

  override toString(): string {
    return this.message;
  }
}

export function invalidInput(message: string, paymentId?: string): FlowError {
  return new FlowError("INVALID_INPUT", message, paymentId);
}

export function isPacError(e: unknown): e is PacError {
  return e instanceof PacError;
}

/** Any thrown value as a FlowError whose text is safe to show (the engine redacts its own). */
export function toFlowError(e: unknown, redact: (s: string) => string = (s) => s): FlowError {
  if (e instanceof FlowError) return e;
  if (e instanceof PacError) {
    const code = e.code === "REMOTE" ? (e.remoteName ?? "REMOTE") : e.code;
    return new FlowError(code, redact(e.message), e.paymentId);
  }
  // Not ours: a fault to find, so where it happened stays (redacted like the text).
  if (e instanceof Error) return new FlowError("ERROR", redact(e.message), undefined, e.stack === undefined ? undefined : redact(e.stack));
  return new FlowError("ERROR", redact(String(e)));
}

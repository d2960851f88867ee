/** Errors as Catch nodes receive them: a message, a code and the payment concerned. */
import { PacError } from "../engine";

/**
 * What a Catch node receives: `msg.error.message` is the text, `msg.error.code` the reason
 * (INVALID_INPUT, NOT_CONNECTED, TIMEOUT, CONNECTION_LOST, or Dojo's error name such as
 * TERMINAL_BUSY), and `paymentId` when one is concerned.
 */
export class FlowError extends Error {
  readonly code: string;
  readonly paymentId?: string;
  constructor(code: string, message: string, paymentId?: string) {
    super(message);
    this.name = "PacError";
    this.code = code;
    if (paymentId !== undefined) this.paymentId = paymentId;
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
  if (e instanceof Error) return new FlowError("ERROR", redact(e.message));
  return new FlowError("ERROR", redact(String(e)));
}

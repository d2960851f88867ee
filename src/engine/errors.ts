import type { ErrorName, RpcErrorInfo } from "../protocol";

/**
 * Why an operation failed. `OUTCOME_UNKNOWN` is distinct on purpose: a CreatePayment/CreateRefund
 * whose answer was lost may still be running on the terminal, so it is NOT a failure.
 */
export type PacErrorCode =
  | "INVALID_INPUT" // rejected before anything was sent
  | "AMOUNT_LIMIT" // above the connection's maximum per payment: rejected before anything was sent
  | "NOT_CONNECTED" // nothing was sent: no open connection
  | "TIMEOUT" // no answer within the request timeout
  | "CONNECTION_LOST" // the connection dropped before the answer
  | "OUTCOME_UNKNOWN" // a Create* whose answer was lost: the payment is followed up, not failed
  | "REMOTE" // Dojo answered with an error (see `remote`)
  | "INVALID_STATE" // the journal knows the operation cannot apply (capture a sale, cancel after the card): nothing was sent
  | "AUTH_FAILED"
  | "DISPLACED"
  | "INSECURE_URL"
  | "JOURNAL" // the journal could not store what must be durable: nothing was sent
  | "CLOSED"; // the client was closed

export class PacError extends Error {
  readonly code: PacErrorCode;
  /** Dojo's error when code is REMOTE. */
  readonly remote?: RpcErrorInfo;
  readonly paymentId?: string;

  constructor(code: PacErrorCode, message: string, extra: { remote?: RpcErrorInfo; paymentId?: string } = {}) {
    super(message);
    this.name = "PacError";
    this.code = code;
    this.remote = extra.remote;
    this.paymentId = extra.paymentId;
  }

  /** Dojo's symbolic error name (TERMINAL_BUSY, …) when this is a remote error. */
  get remoteName(): ErrorName | undefined {
    return this.remote?.name;
  }

  /** Staff-readable text: Dojo's userMessage when there is one. */
  get userMessage(): string {
    return this.remote?.userMessage ?? this.message;
  }

  static remoteError(method: string, remote: RpcErrorInfo, paymentId?: string): PacError {
    const label = remote.name ?? String(remote.code);
    const text = remote.userMessage ? `${remote.userMessage} (${label})` : `${remote.message} (${label})`;
    return new PacError("REMOTE", `Dojo refused ${method}: ${text}`, { remote, paymentId });
  }
}

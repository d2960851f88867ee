/** Public types of the PAC simulator: options, snapshots, events and counters. */
import type { CaptureMode, CardInfo, KnownPaymentStatus, NotificationValue, TerminalStatus } from "../protocol";
import type { SimDriftKind } from "./drift";
import type { SimFaultConfig } from "./faults";

export interface SimCredentials {
  accountName: string;
  apiKey: string;
}

/** One Dojo account; missing credentials are generated with crypto.randomBytes. */
export interface SimAccountOptions {
  accountName?: string;
  apiKey?: string;
  /** Terminal ids, or how many `SIM0000n` terminals to create. Defaults to the simulator's `terminals`. */
  terminals?: number | readonly string[];
}

/** `"realistic"`: a few hundred ms per step; `"zero"`: steps chained with setImmediate; a number: ms per step. */
export type SimDelayMode = "realistic" | "zero" | number;

export interface SimulatorOptions {
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Port to bind; 0 (default) picks an ephemeral one. */
  port?: number;
  /** SimCredentials of the first account (shorthand for `accounts[0]`). */
  credentials?: Partial<SimCredentials>;
  /** Every account served. Default: one account. */
  accounts?: readonly SimAccountOptions[];
  /** Terminals per account: a count (ids SIM00001, SIM00002, …) or explicit ids. Default 2. */
  terminals?: number | readonly string[];
  /** Step pacing. Default "realistic". */
  delays?: SimDelayMode;
  /** Reject any param not in SCHEMA[method].params with INVALID_PARAMS. Default false. */
  strict?: boolean;
  /** Start every terminal in manual mode (driven by `act`). Default false. */
  manual?: boolean;
  /** Interval between redeliveries of an unacknowledged record. Default 5000 ms. */
  recordRetryMs?: number;
  /** How long the terminal waits for a SignatureVerification answer. Default 80 000 ms. */
  signatureTimeoutMs?: number;
  /** How long the "03" scenario waits at PRESENT_CARD before declining. Default 60 000 ms. */
  presentCardTimeoutMs?: number;
  /** Server-side WebSocket ping interval; a socket missing 2 pongs is terminated. 0 disables. Default 30 000 ms. */
  pingIntervalMs?: number;
  /** Frames larger than this are answered with INVALID_REQUEST. Default 1 MiB. */
  maxFrameBytes?: number;
  /**
   * Differ from the contract on purpose (to test `dojo-pac-check` and the client's tolerance): a list
   * of drifts, or "all". See DRIFT_KINDS and DRIFT. Default none.
   */
  drift?: readonly SimDriftKind[] | "all";
  /** SimulatorFaults active from the start (see `SimulatorFaults`). */
  faults?: SimFaultConfig;
  /**
   * Serve the virtual terminal page (and its control API) at `/` on the simulator's own port.
   * Default true. Anyone who can reach the port can drive the terminals.
   */
  virtualTerminal?: boolean;
}

/** Where a terminal is in its transaction: the steps marked "waits" wait for an action. */
export type SimTerminalStep =
  | "idle"
  | "starting" // acknowledged, PRESENT_CARD not sent yet
  | "presentCard" // waits: present, insert, decline, fail
  | "pinEntry" // waits: enterPin, decline, fail
  | "authorising" // waits: approve, decline, requestSignature, fail
  | "signature" // waits for the EPOS's SignatureVerification answer
  | "removeCard" // waits: removeCard
  | "processing"; // between the notifications of one action

/** What a customer or the card network does at the terminal (manual mode, or a test). */
export type SimTerminalAction =
  | "present" // tap a contactless card
  | "insert" // insert a chip card (PIN entry follows)
  | "enterPin"
  | "approve"
  | "decline"
  | "requestSignature"
  | "removeCard"
  | "fail"; // processing error

export type SimTransactionKind = "payment" | "refund";

/** A terminal as a virtual-terminal page would show it. */
export interface SimTerminalSnapshot {
  accountName: string;
  terminalId: string;
  tid: string;
  status: TerminalStatus;
  online: boolean;
  manual: boolean;
  step: SimTerminalStep;
  /** The actions `act` accepts now. */
  allowedActions: SimTerminalAction[];
  /** The current transaction, or else the most recent one. */
  paymentId?: string;
  kind?: SimTransactionKind;
  amount?: number;
  currency?: string;
  lastNotification?: NotificationValue;
  /** Status of that transaction (PENDING/IN_PROGRESS while running). */
  result?: KnownPaymentStatus;
  /** That transaction's signature question: asked, then the till's answer (absent: never asked). */
  signature?: SimSignatureState;
}

/** A signature question: "asked" until the till answers (or the timeout, which counts as accepted). */
export type SimSignatureState = "asked" | "accepted" | "declined" | "timeout";

export interface SimConnectionInfo {
  accountName: string;
  eposId: string;
  softwareHouseId: string;
  resellerId?: string;
}

export interface SimDisconnectionInfo extends SimConnectionInfo {
  code: number;
  reason: string;
  /** Closed because a newer connection took the same epos-id. */
  displaced: boolean;
}

export interface SimFrameEvent {
  accountName: string;
  eposId: string;
  text: string;
}

export interface SimHandshakeRejection {
  status: number;
  reason: string;
}

export interface SimRecordEvent {
  accountName: string;
  eposId: string;
  paymentId: string;
  method: string;
}

/** Events of PacSimulator (an EventEmitter). */
export interface SimulatorEventMap {
  connection: [SimConnectionInfo];
  disconnection: [SimDisconnectionInfo];
  handshakeRejected: [SimHandshakeRejection];
  frameIn: [SimFrameEvent];
  frameOut: [SimFrameEvent];
  terminal: [SimTerminalSnapshot];
  recordSent: [SimRecordEvent];
  recordAcked: [SimRecordEvent];
  /** A bug in the simulator (never a bad frame from the EPOS). Logged to stderr when nobody listens. */
  internalError: [Error];
  /** `stop()` was called: whoever serves something from this simulator should let go of it. */
  stopping: [];
  /** A flow printed a slip on a terminal's virtual receipt printer (printSlip). */
  slip: [SimPrintedSlip];
}

/** A slip a flow prints on a virtual terminal's receipt printer (PacSimulator.printSlip). */
export interface SimSlipInput {
  terminalId: string;
  paymentId?: string;
  /** The picture of the slip (the page shows it as an image, never as markup). */
  svg?: string;
  /** The slip as fixed-width text (shown when there is no picture, and to screen readers). */
  text?: string;
  /** For the caption: the amount in minor units of `currency`, the outcome and the auth code. */
  amount?: number;
  currency?: string;
  outcome?: string;
  authCode?: string;
}

/** A slip as the virtual receipt printer keeps it. */
export interface SimPrintedSlip {
  /** Increasing per simulator: the page drops a slip it already shows. */
  id: number;
  accountName: string;
  terminalId: string;
  paymentId?: string;
  /** When it was printed (ISO). */
  at: string;
  svg?: string;
  text: string;
  amount?: number;
  currency?: string;
  outcome?: string;
  authCode?: string;
}

/** Live counters; `resetStats()` zeroes them. */
export interface SimulatorStats {
  connectionAttempts: number;
  connectionsOpened: number;
  displaced: number;
  /** Rejected handshakes by HTTP status. */
  handshakesRejected: Record<number, number>;
  /** Request frames received, by (known) method name. */
  requests: Record<string, number>;
  /** paymentId of every CreatePayment / CreateRefund received, in order (rejected ones included). */
  createPaymentIds: string[];
  createRefundIds: string[];
  /** Record deliveries sent (each redelivery counts) and records acknowledged. */
  recordsSent: number;
  recordsAcked: number;
}

/** A transaction as the simulator stores it (internal, exposed to tests via snapshots). */
export interface SimPayment {
  readonly accountName: string;
  readonly eposId: string;
  readonly kind: SimTransactionKind;
  readonly paymentId: string;
  readonly terminalId: string;
  readonly captureMode: CaptureMode;
  baseAmount: number;
  readonly tipsAmount: number;
  readonly cashbackAmount: number;
  readonly currency: string;
  status: KnownPaymentStatus;
  authorizedAmount: number;
  capturedAmount: number;
  lastNotification?: NotificationValue;
  readonly attemptedAt: string;
  authCode?: string;
  card?: CardInfo;
  /** The signature question, once the terminal asked it. */
  signature?: SimSignatureState;
  /** §7a: the terminal's sequence number and when it finished (set when the transaction ends). */
  transactionNumber?: string;
  transactionTime?: string;
}

/**
 * Receipt data a record may carry (contract §7a, all [D]: derived from Dojo's predecessor API, so
 * treated as [M]: optional on read, never required). Every wire name of §7a lives here: correct them
 * here after checking against Dojo staging. Readers are tolerant: a missing field stays undefined,
 * an unknown enum value is kept as the string Dojo sent, a malformed line is skipped.
 */
import { isPlainObject } from "../common/json";

/** [D] Top-level record fields of §7a (the card fields travel inside the record's `card`). */
export const RECEIPT_FIELD = {
  transactionNumber: "transactionNumber",
  transactionTime: "transactionTime",
  receiptLines: "receiptLines",
} as const;

/** [D] Fields inside `card` (besides `scheme` and `last4`). */
export const CARD_FIELD = {
  scheme: "scheme",
  last4: "last4",
  applicationId: "applicationId",
  applicationLabel: "applicationLabel",
  entryMode: "entryMode",
  verification: "verification",
  expiry: "expiry",
} as const;

/** [D] How the card was read (V1 `paymentMethod`). */
export const ENTRY_MODE = {
  CONTACTLESS: "CONTACTLESS",
  ICC_CHIP: "ICC_CHIP",
  SWIPED: "SWIPED",
  KEYED: "KEYED",
  UNKNOWN: "UNKNOWN",
} as const;
export type EntryMode = (typeof ENTRY_MODE)[keyof typeof ENTRY_MODE] | (string & {});

/** [D] Cardholder verification (V1 `cardholderVerificationMethod`). */
export const VERIFICATION = {
  PIN: "PIN",
  SIGNATURE: "SIGNATURE",
  DEVICE: "DEVICE",
  NONE: "NONE",
  UNKNOWN: "UNKNOWN",
} as const;
export type Verification = (typeof VERIFICATION)[keyof typeof VERIFICATION] | (string & {});

/** [D] The two copies of `receiptLines`. */
export const RECEIPT_COPY = { MERCHANT: "MERCHANT", CUSTOMER: "CUSTOMER" } as const;
export type ReceiptCopy = (typeof RECEIPT_COPY)[keyof typeof RECEIPT_COPY];

/** [D] Line types; an unknown type is printed as text (its `value`). */
export const RECEIPT_LINE_TYPE = {
  TEXT: "TEXT",
  LINE_SEPARATOR_SINGLE: "LINE_SEPARATOR_SINGLE",
  LINE_SEPARATOR_DOUBLE: "LINE_SEPARATOR_DOUBLE",
  CARRIAGE_RETURN: "CARRIAGE_RETURN",
  TICKET_FEED: "TICKET_FEED",
  BOX_DECLINE: "BOX_DECLINE",
  BOX_VOID: "BOX_VOID",
} as const;
export type ReceiptLineType = (typeof RECEIPT_LINE_TYPE)[keyof typeof RECEIPT_LINE_TYPE] | (string & {});

/** [D] Line formats; unknown formats are kept and ignored by printers. */
export const RECEIPT_LINE_FORMAT = { BOLD: "BOLD", DOUBLE_HEIGHT: "DOUBLE_HEIGHT", DOUBLE_WIDTH: "DOUBLE_WIDTH" } as const;
export type ReceiptLineFormat = (typeof RECEIPT_LINE_FORMAT)[keyof typeof RECEIPT_LINE_FORMAT] | (string & {});

/** [D] Line keys. */
const LINE_KEY = { type: "type", value: "value", format: "format" } as const;

export interface ReceiptLine {
  type: ReceiptLineType;
  value: string;
  format?: ReceiptLineFormat[];
}
export type ReceiptLines = Partial<Record<ReceiptCopy, ReceiptLine[]>>;

/** The §7a card fields (on top of `scheme` and `last4`). */
export interface ReceiptCardFields {
  applicationId?: string;
  applicationLabel?: string;
  entryMode?: EntryMode;
  verification?: Verification;
  expiry?: string;
}

/** The §7a top-level record fields. */
export interface ReceiptRecordFields {
  transactionNumber?: string;
  transactionTime?: string;
  receiptLines?: ReceiptLines;
}

/** The record fields that carry §7a data, for the record's closed field list. */
export const RECEIPT_RECORD_FIELDS = [RECEIPT_FIELD.transactionNumber, RECEIPT_FIELD.transactionTime, RECEIPT_FIELD.receiptLines] as const;

/** Most lines one copy may carry when read (a bound against a runaway record; real slips have < 100). */
export const MAX_RECEIPT_LINES = 2000;

function text(v: unknown): string | undefined {
  return typeof v === "string" ? v : typeof v === "number" && Number.isFinite(v) ? String(v) : undefined;
}

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** The §7a fields of a record's `card`, tolerantly (a field of the wrong type is left out). */
export function readReceiptCard(card: unknown): ReceiptCardFields {
  if (!isPlainObject(card)) return {};
  return defined({
    applicationId: text(card[CARD_FIELD.applicationId]),
    applicationLabel: text(card[CARD_FIELD.applicationLabel]),
    entryMode: text(card[CARD_FIELD.entryMode]),
    verification: text(card[CARD_FIELD.verification]),
    expiry: text(card[CARD_FIELD.expiry]),
  });
}

/** One line, or undefined when it is not a line (an object with neither type nor value). */
export function readReceiptLine(v: unknown): ReceiptLine | undefined {
  if (typeof v === "string") return { type: RECEIPT_LINE_TYPE.TEXT, value: v }; // a bare string: text
  if (!isPlainObject(v)) return undefined;
  const type = text(v[LINE_KEY.type]);
  const value = text(v[LINE_KEY.value]);
  if (type === undefined && value === undefined) return undefined;
  const rawFormat = v[LINE_KEY.format];
  const format = Array.isArray(rawFormat) ? rawFormat.filter((f): f is string => typeof f === "string") : typeof rawFormat === "string" ? [rawFormat] : [];
  return { type: type ?? RECEIPT_LINE_TYPE.TEXT, value: value ?? "", ...(format.length > 0 ? { format } : {}) };
}

function readCopy(v: unknown): ReceiptLine[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: ReceiptLine[] = [];
  for (const item of v.slice(0, MAX_RECEIPT_LINES)) {
    const line = readReceiptLine(item);
    if (line) out.push(line);
  }
  return out;
}

/** `receiptLines` copy by copy; undefined when absent or when no copy is readable. */
export function readReceiptLines(v: unknown): ReceiptLines | undefined {
  if (!isPlainObject(v)) return undefined;
  const out: ReceiptLines = {};
  for (const copy of Object.values(RECEIPT_COPY)) {
    const lines = readCopy(v[copy]);
    if (lines) out[copy] = lines;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The §7a top-level fields of a record. */
export function readReceiptRecordFields(record: Record<string, unknown>): ReceiptRecordFields {
  return defined({
    transactionNumber: text(record[RECEIPT_FIELD.transactionNumber]),
    transactionTime: text(record[RECEIPT_FIELD.transactionTime]),
    receiptLines: readReceiptLines(record[RECEIPT_FIELD.receiptLines]),
  });
}

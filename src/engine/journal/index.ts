/** The journal package's public surface: other code imports from here, not from its files. */
export { Journal } from "./journal";
export type { JournalEvents, JournalOptions } from "./journal";
export { isClosed } from "./entries";
export type { ChangeOp, JournalEntry, JournalPayment, JsonValue, PaymentKind, StartInfo } from "./entries";
export { activeJournalFiles, fileSafeName, journalPath, readJournalSummary, readOpenPayments, untilZeros } from "./files";
export type { JournalIdentity } from "./files";
export { JournalUnavailableError } from "./recovery";
export type { JournalHealth } from "./recovery";
export { JournalLockError } from "./journal-lock";
export type { LockHolder } from "./journal-lock";
export { describeStorageError, storageErrorCode } from "./storage-error";

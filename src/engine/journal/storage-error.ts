/**
 * A storage error (errno) in words: for the one warning a failure gives and for a status text that
 * must stay under 20 characters.
 */
import { constants as osConstants } from "node:os";

const WORDS: Readonly<Record<string, { words: string; short: string }>> = {
  ENOSPC: { words: "the disk is full", short: "disk full" },
  EDQUOT: { words: "the disk quota is used up", short: "quota full" },
  EIO: { words: "the disk reported an I/O error", short: "I/O error" },
  EROFS: { words: "the file system is read-only", short: "read-only" },
  EACCES: { words: "permission denied", short: "no access" },
  EPERM: { words: "operation not permitted", short: "no access" },
  EBADF: { words: "the file was closed under it (was its directory removed?)", short: "file lost" },
  ENOENT: { words: "the directory or file is missing", short: "dir missing" },
  EMFILE: { words: "too many open files", short: "too many files" },
  ENFILE: { words: "too many open files", short: "too many files" },
  JOURNAL_LOCKED: { words: "another writer holds it", short: "in use" },
};

export interface StorageErrorText {
  /** The errno code, or "" when there is none. */
  code: string;
  /** A sentence fragment: "the disk is full (ENOSPC)". */
  words: string;
  /** At most 14 characters, for "journal: …". */
  short: string;
}

/**
 * The error's errno name. libuv has no name for some (EDQUOT on Node 20 arrives as code "UNKNOWN"):
 * those are named from the number.
 */
export function storageErrorCode(err: unknown): string {
  const e = err as { code?: unknown; errno?: unknown } | null;
  const code = typeof e?.code === "string" ? e.code : "";
  if ((code === "UNKNOWN" || code === "") && typeof e?.errno === "number") {
    const n = Math.abs(e.errno);
    const name = Object.entries(osConstants.errno).find(([, v]) => v === n)?.[0];
    if (name) return name;
  }
  return code;
}

export function describeStorageError(err: unknown): StorageErrorText {
  const code = storageErrorCode(err);
  const known = WORDS[code];
  if (known) return { code, words: `${known.words} (${code})`, short: known.short };
  const message = err instanceof Error ? err.message : String(err);
  return { code, words: code ? `${message} (${code})` : message, short: "error" };
}

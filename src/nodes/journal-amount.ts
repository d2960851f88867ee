/** The amount a journal entry stands for, as reports and refund limits count it. */
import type { JournalPayment } from "../engine";
import { CAPTURE_MODE, FIELD } from "../protocol";

/**
 * A pre-auth's amount changes after Dojo's record (UpdatePayment, a capture of another amount): the
 * journal's latest amount is the truth there. Otherwise Dojo's record wins over what was asked.
 */
export function journalAmount(p: JournalPayment): number {
  const recorded = p.record?.[FIELD.baseAmount];
  if (p.captureMode === CAPTURE_MODE.MANUAL && typeof p.amount === "number") return p.amount;
  return typeof recorded === "number" ? recorded : (p.amount ?? 0);
}

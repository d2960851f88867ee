/**
 * After a restart, the drain-only connections a deploy had left are gone with the process. The
 * journals they leave (same account and URL as a live connection, another epos-id, payments opened
 * recently) are found here, so that a drain-only connection can collect their results again: Dojo
 * sends a record to the epos-id that started the payment, so this is the only way they reach the flow.
 */
import { activeJournalFiles, journalPath, readJournalSummary } from "../engine";
import type { ConfigSettings } from "./settings";

/** The epos-ids of journals in `dir` worth draining again: open payments started within `maxAgeMs`. */
export async function findLeftovers(dir: string, settings: ConfigSettings, inUse: ReadonlySet<string>, maxAgeMs: number): Promise<string[]> {
  const found: string[] = [];
  for (const { file } of activeJournalFiles(dir)) {
    if (inUse.has(file)) continue;
    const summary = await readJournalSummary(file).catch(() => null);
    const eposId = summary?.eposId;
    if (!summary || eposId === undefined || eposId === settings.eposId) continue;
    // Same account and URL (the file's name is a hash of them with the epos-id).
    if (journalPath(dir, { eposId, accountName: settings.accountName, url: settings.url }) !== file) continue;
    if (summary.open.some((p) => Date.now() - (p.startedAt ?? p.updatedAt) < maxAgeMs)) found.push(eposId);
  }
  return found;
}

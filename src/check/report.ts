/**
 * The report: Markdown for people (to attach to an issue), JSON for programs. Both pass through the
 * redaction of the run's secrets once more at the end, whatever went into them.
 */
import { redactSecrets } from "../common/redact";
import { where } from "./locate";
import type { CheckReport } from "./run";

const cell = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function toJson(report: CheckReport, secrets: readonly string[]): string {
  return redactSecrets(JSON.stringify(report, null, 2), secrets) + "\n";
}

export function summary(report: CheckReport): string {
  if (report.aborted) return `The check could not run: ${report.aborted}`;
  const n = report.deviations.length;
  const skipped = report.steps.filter((s) => s.status === "skipped" || s.status === "timeout").length;
  const head = n === 0 ? "No deviations: every frame matched the contract." : `${n} deviation${n === 1 ? "" : "s"} from the contract.`;
  return skipped ? `${head} ${skipped} step(s) skipped or timed out.` : head;
}

export function toMarkdown(report: CheckReport, secrets: readonly string[], options: { trace?: boolean } = {}): string {
  const out: string[] = [];
  const t = report.target;
  out.push(`# Dojo PAC conformance check`, "");
  out.push(`- Target: \`${t.url}\` (${t.env})`);
  out.push(`- Account: \`${t.accountName}\`, epos-id \`${t.eposId}\`, software-house-id \`${t.softwareHouseId}\`, terminal \`${t.terminalId || "-"}\``);
  out.push(`- Mode: ${report.mode === "auto" ? "auto (no person at the terminal)" : "a person at the terminal"}; ${report.tool} ${report.version}`);
  out.push(`- Run: ${report.startedAt} to ${report.finishedAt}`);
  out.push("", `**${summary(report)}**`, "");
  if (report.steps.length > 0) {
    out.push("## Steps", "", "| # | step | result | deviations | ms | notes |", "|---|---|---|---|---|---|");
    report.steps.forEach((s, i) => out.push(`| ${i + 1} | ${cell(s.title)} | ${s.status} | ${s.deviations} | ${s.ms} | ${cell(s.note)} |`));
    out.push("");
  }
  out.push("## Deviations", "");
  if (report.deviations.length === 0) {
    out.push("None.", "");
  } else {
    out.push("| # | step | operation | JSON path | kind | expected | got | frames | change |", "|---|---|---|---|---|---|---|---|---|");
    report.deviations.forEach((d, i) =>
      out.push(
        `| ${i + 1} | ${d.step} | ${cell(d.operation)} | \`${cell(d.path || "-")}\` | ${d.kind} | ${cell(d.expected)} | ${cell(d.got)} | ${d.count} | \`${where(d.fix)}\`: ${cell(d.fix.what)} |`,
      ),
    );
    out.push("");
  }
  if (report.observations.length > 0) {
    out.push("## Observations", "");
    for (const o of report.observations) out.push(`- ${o.name}: ${o.value}`);
    out.push("");
  }
  if (options.trace !== false) {
    out.push("## Wire trace (redacted)", "", "`→` sent by the check, `←` from Dojo, `·` connection events; times in ms from the start.", "", "```text");
    for (const e of report.trace) out.push(`${String(e.t).padStart(7)} ${e.dir === "out" ? "→" : e.dir === "in" ? "←" : "·"} ${e.text}`);
    out.push("```", "");
  }
  return redactSecrets(out.join("\n"), secrets);
}

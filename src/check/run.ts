/**
 * runCheck: connect, run every step (asking a person first where one is needed), collect the
 * deviations and observations, and return the report's data. Used by the CLI and the editor's button.
 */
import { DOJO_URLS } from "../protocol";
import { CheckSession } from "./session";
import type { CheckTarget, Deviation, TraceEntry } from "./session";
import { STEPS } from "./steps";
import type { StepContext } from "./steps";

export type StepStatus = "passed" | "deviations" | "skipped" | "timeout" | "failed";

export interface StepReport {
  name: string;
  title: string;
  status: StepStatus;
  note: string;
  ms: number;
  deviations: number;
}

export interface CheckReport {
  tool: "dojo-pac-check";
  version: string;
  target: { env: string; url: string; accountName: string; eposId: string; softwareHouseId: string; terminalId: string };
  mode: "auto" | "person";
  startedAt: string;
  finishedAt: string;
  /** Could not connect at all: the steps did not run. */
  aborted?: string;
  steps: StepReport[];
  deviations: Deviation[];
  observations: { name: string; value: string }[];
  trace: TraceEntry[];
}

/** How the check talks to the person at the terminal. */
export interface Prompter {
  /** Show what to do; resolve "go" when ready, "skip" to skip the step. */
  ask(step: string, instruction: string): Promise<"go" | "skip">;
  /** Progress lines. */
  say(text: string): void;
}

export interface CheckOptions extends Omit<CheckTarget, "url"> {
  env: "staging" | "production" | "custom";
  url?: string;
  /** Empty: the first AVAILABLE terminal of ConnectedTerminals. */
  terminalId?: string;
  currency?: string;
  auto: boolean;
  stepTimeoutMs?: number;
  requestTimeoutMs?: number;
  redeliveryWaitMs?: number;
  connectTimeoutMs?: number;
  /** Only these steps (by name); default all. */
  only?: readonly string[];
  version?: string;
}

export const SILENT: Prompter = { ask: () => Promise.resolve("go"), say: () => undefined };

export async function runCheck(options: CheckOptions, prompter: Prompter = SILENT): Promise<CheckReport> {
  const url = options.url ?? (options.env === "production" ? DOJO_URLS.production : DOJO_URLS.staging);
  const session = new CheckSession({ ...options, url });
  const observations: { name: string; value: string }[] = [];
  const report: CheckReport = {
    tool: "dojo-pac-check",
    version: options.version ?? "",
    target: {
      env: options.env,
      url,
      accountName: options.accountName,
      eposId: options.eposId,
      softwareHouseId: options.softwareHouseId,
      terminalId: options.terminalId ?? "",
    },
    mode: options.auto ? "auto" : "person",
    startedAt: new Date().toISOString(),
    finishedAt: "",
    steps: [],
    deviations: [],
    observations,
    trace: session.trace,
  };
  try {
    prompter.say(`Connecting to ${url} as epos-id ${options.eposId}…`);
    session.event(
      `handshake: GET ${url} with authorization: Basic *** (account ${options.accountName}), epos-id: ${options.eposId}, software-house-id: ${options.softwareHouseId}${options.resellerId ? `, reseller-id: ${options.resellerId}` : ""}`,
    );
    const opened = await session.open(options.connectTimeoutMs ?? 15_000);
    if (!opened.ok) {
      report.aborted = session.redact(opened.reason);
      return report;
    }
    const ctx: StepContext = {
      session,
      terminalId: options.terminalId ?? "",
      currency: options.currency ?? "GBP",
      auto: options.auto,
      stepTimeoutMs: options.stepTimeoutMs ?? (options.auto ? 15_000 : 120_000),
      requestTimeoutMs: options.requestTimeoutMs ?? 15_000,
      redeliveryWaitMs: options.redeliveryWaitMs ?? 60_000,
      made: new Map(),
      observe: (name, value) => observations.push({ name, value }),
    };
    for (const step of STEPS) {
      if (options.only && !options.only.includes(step.name)) continue;
      const started = Date.now();
      const before = session.deviations().length;
      const done = (status: StepStatus, note: string): void => {
        const deviations = session.deviations().length - before;
        const final = status === "passed" && deviations > 0 ? "deviations" : status;
        report.steps.push({ name: step.name, title: step.title, status: final, note: session.redact(note), ms: Date.now() - started, deviations });
        prompter.say(`  ${step.name}: ${final}${note ? ` (${note})` : ""}`);
      };
      session.step = step.name;
      if (step.needs && !ctx.made.has(step.needs)) {
        done("skipped", `needs the ${step.needs} step`);
        continue;
      }
      if (!ctx.terminalId && step.name !== "connected-terminals") {
        done("skipped", "no terminal: give --terminal");
        continue;
      }
      if (step.person && !options.auto && (await prompter.ask(step.name, step.person(ctx))) === "skip") {
        done("skipped", "skipped by the person at the terminal");
        continue;
      }
      prompter.say(`${step.title}…`);
      try {
        const end = await step.run(ctx);
        done(end.status === "done" ? "passed" : end.status, end.note ?? "");
      } catch (e) {
        done("failed", e instanceof Error ? e.message : String(e));
      }
      report.target.terminalId = ctx.terminalId;
    }
  } finally {
    await session.close();
    report.deviations = session.deviations();
    report.finishedAt = new Date().toISOString();
  }
  return report;
}

/**
 * The connection dialog's "Check against Dojo": runs dojo-pac-check (src/check) as a job the editor
 * polls, with the dialog's values, and shows the report.
 *
 *   POST pac/check                  start a check (body: the dialog's values, as test-connection)
 *   GET  pac/check/:jobId           progress lines, the step waiting for the person, the report
 *   POST pac/check/:jobId/answer    {answer: "go" | "skip"} for the step waiting
 *
 * It never uses the till's own epos-id (the check acknowledges records and displaces its own
 * connection at the end): it connects as "<epos-id>-check". The `simulator` environment is checked
 * against a throwaway simulator, unattended (--auto); production is refused (the check makes test
 * payments). One check at a time per runtime; a finished one is kept for JOB_KEEP_MS.
 */
import { randomUUID } from "node:crypto";
import { runCheck, summary, toJson, toMarkdown } from "../../check";
import type { CheckOptions, CheckReport, Prompter } from "../../check";
import { credentialSecrets, redactSecrets } from "../../engine";
import { PacSimulator } from "../../simulator";
import { readSettings, runtimeTuning } from "../settings";
import { testInput } from "./connection-test";
import { bodyOf, errorText, sendError } from "./http";
import type { AdminApp, AdminNodeAPI, Middleware } from "./http";

/** A person at a staging terminal has this long to answer before the step is skipped. */
const ANSWER_TIMEOUT_MS = 10 * 60_000;
const JOB_KEEP_MS = 30 * 60_000;
const MAX_LINES = 500;

export interface CheckJobView {
  id: string;
  state: "running" | "waiting" | "done";
  lines: string[];
  prompt?: { step: string; instruction: string };
  summary?: string;
  deviations?: number;
  markdown?: string;
  json?: string;
}

class CheckJob {
  readonly id = randomUUID();
  readonly lines: string[] = [];
  state: CheckJobView["state"] = "running";
  private waiting?: { step: string; instruction: string; answer: (a: "go" | "skip") => void };
  private report?: CheckReport;
  private texts?: { markdown: string; json: string };
  finishedAt = 0;

  constructor(private readonly secrets: readonly string[]) {}

  readonly prompter: Prompter = {
    say: (text) => {
      this.lines.push(redactSecrets(text, this.secrets));
      if (this.lines.length > MAX_LINES) this.lines.shift();
    },
    ask: (step, instruction) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => answer("skip"), ANSWER_TIMEOUT_MS);
        const answer = (a: "go" | "skip"): void => {
          clearTimeout(timer);
          this.waiting = undefined;
          this.state = "running";
          resolve(a);
        };
        this.waiting = { step, instruction, answer };
        this.state = "waiting";
      }),
  };

  answer(a: "go" | "skip"): boolean {
    if (!this.waiting) return false;
    this.waiting.answer(a);
    return true;
  }

  done(report: CheckReport | undefined, problem?: string): void {
    this.report = report;
    if (report) this.texts = { markdown: toMarkdown(report, this.secrets), json: toJson(report, this.secrets) };
    if (problem) this.prompter.say(problem);
    this.state = "done";
    this.finishedAt = Date.now();
  }

  view(): CheckJobView {
    const w = this.waiting;
    return {
      id: this.id,
      state: this.state,
      lines: [...this.lines],
      ...(w ? { prompt: { step: w.step, instruction: w.instruction } } : {}),
      ...(this.report && this.texts
        ? {
            summary: redactSecrets(summary(this.report), this.secrets),
            deviations: this.report.deviations.length,
            markdown: this.texts.markdown,
            json: this.texts.json,
          }
        : {}),
    };
  }
}

/** The checks of one runtime (kept in the admin routes' state). */
export class CheckJobs {
  private readonly jobs = new Map<string, CheckJob>();

  get(id: string): CheckJob | undefined {
    this.prune();
    return this.jobs.get(id);
  }

  running(): boolean {
    return [...this.jobs.values()].some((j) => j.state !== "done");
  }

  /** Start a run: with the given target, or (`simulator`) against a throwaway simulator, unattended. */
  start(options: Omit<CheckOptions, "url" | "accountName" | "apiKey"> & { url?: string; accountName?: string; apiKey?: string }, simulator: boolean): CheckJob {
    this.prune();
    const job = new CheckJob(credentialSecrets(options.accountName ?? "", options.apiKey ?? ""));
    this.jobs.set(job.id, job);
    void (async () => {
      let sim: PacSimulator | undefined;
      try {
        let run = options as CheckOptions;
        if (simulator) {
          sim = await PacSimulator.start({ host: "127.0.0.1", port: 0, delays: "zero", recordRetryMs: 1000, virtualTerminal: false, pingIntervalMs: 0 });
          run = { ...options, env: "custom", url: sim.url, ...sim.credentials, auto: true, redeliveryWaitMs: 5000 };
        }
        job.done(await runCheck(run, job.prompter));
      } catch (e) {
        job.done(undefined, `The check could not run: ${redactSecrets(errorText(e), credentialSecrets(options.accountName ?? "", options.apiKey ?? ""))}`);
      } finally {
        await sim?.stop();
      }
    })();
    return job;
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, j] of this.jobs) if (j.state === "done" && now - j.finishedAt > JOB_KEEP_MS) this.jobs.delete(id);
  }
}

export function mountCheck(app: AdminApp, RED: AdminNodeAPI, jobs: CheckJobs, read: Middleware, write: Middleware): void {
  app.post("/pac/check", write, (req, res) => {
    const body = bodyOf(req);
    if (!body) return sendError(res, 400, "bad-request", "send the connection's settings as a JSON object");
    if (jobs.running()) return sendError(res, 409, "busy", "a check is running already");
    const input = testInput(RED, body);
    if (typeof input === "string") return sendError(res, 400, input);
    const settings = readSettings(input.def, input.creds);
    if (typeof settings === "string") return sendError(res, 400, "config", settings);
    if (settings.environment === "production")
      return sendError(res, 400, "production", "the check makes test payments: run it against staging or the simulator");
    const terminalId = typeof body.terminalId === "string" && body.terminalId ? body.terminalId : undefined;
    const simulator = settings.environment === "simulator";
    const job = jobs.start(
      {
        env: settings.environment === "staging" ? "staging" : "custom",
        url: settings.url,
        accountName: settings.accountName,
        apiKey: settings.apiKey,
        // Never the till's own: the check acknowledges records and displaces itself at the end.
        eposId: `${settings.eposId}-check`,
        softwareHouseId: settings.softwareHouseId,
        resellerId: settings.resellerId,
        allowInsecure: runtimeTuning(RED).allowInsecure,
        terminalId,
        auto: simulator,
      },
      simulator,
    );
    res.status(202).json({ id: job.id });
  });

  app.get("/pac/check/:jobId", read, (req, res) => {
    const job = jobs.get(req.params.jobId);
    if (!job) return sendError(res, 404, "not-found", "no such check (finished ones are kept 30 minutes)");
    res.json(job.view());
  });

  app.post("/pac/check/:jobId/answer", write, (req, res) => {
    const job = jobs.get(req.params.jobId);
    if (!job) return sendError(res, 404, "not-found", "no such check");
    const answer = bodyOf(req)?.answer;
    if (answer !== "go" && answer !== "skip") return sendError(res, 400, "bad-request", 'answer "go" or "skip"');
    if (!job.answer(answer)) return sendError(res, 409, "not-waiting", "no step is waiting for an answer");
    res.json(job.view());
  });
}

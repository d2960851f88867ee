#!/usr/bin/env node
/**
 * dojo-pac-check: run the conformance check against Dojo (staging) or our simulator and write the
 * report. Exit codes: 0 no deviations, 1 deviations found, 2 usage, 3 could not connect,
 * 4 internal error, 5 incomplete (a step timed out or failed, and no deviation was found).
 */
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { credentialSecrets } from "../common/redact";
import { runCheck } from "./run";
import type { CheckOptions, CheckReport, Prompter } from "./run";
import { summary, toJson, toMarkdown } from "./report";
import { STEPS } from "./steps";

const USAGE = `Usage: dojo-pac-check --account NAME --epos-id ID --software-house-id ID [options]

  --env staging        Dojo's staging endpoint (default; the check makes real test payments,
                       so it refuses production)
  --url URL            another endpoint (e.g. our simulator's ws://127.0.0.1:PORT/ws/v2/pac/epos)
  --allow-insecure     allow ws:// to a host that is not loopback
  --account NAME       Dojo account name
  --key KEY            API key (better: the DOJO_API_KEY environment variable, or the prompt)
  --epos-id ID         epos-id for this run (use one no till uses: the check displaces it at the end)
  --software-house-id  software-house-id
  --reseller-id ID     reseller-id, when you have one
  --terminal TID       the terminal to use (default: the first AVAILABLE one)
  --currency CODE      default GBP
  --auto               no person at the terminal (our simulator: magic amounts drive it)
  --step-timeout S     seconds each step may take (default 120, or 15 with --auto)
  --redelivery-wait S  seconds to wait for a record to be sent again (default 60)
  --only a,b           run only these steps
  --report FILE        write the Markdown report (with the redacted wire trace)
  --json FILE          write the report as JSON
  --help

Exit codes: 0 no deviations, 1 deviations, 2 usage, 3 could not connect, 4 internal error,
5 incomplete (a step timed out or failed).`;

class UsageError extends Error {}

interface Parsed {
  options: Partial<CheckOptions>;
  report?: string;
  json?: string;
}

function parseArgs(argv: readonly string[]): Parsed | "help" {
  const options: Partial<CheckOptions> = { env: "staging", auto: false };
  const parsed: Parsed = { options };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    const seconds = (): number => {
      const v = value();
      if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`${arg} needs a number of seconds, got "${v}"`);
      return Number(v) * 1000;
    };
    switch (arg) {
      case "--env": {
        const env = value();
        if (env === "production") throw new UsageError("the check makes test payments: run it against staging (--env staging), not production");
        if (env !== "staging") throw new UsageError(`--env must be staging (got "${env}"); use --url for another endpoint`);
        options.env = "staging";
        break;
      }
      case "--url":
        options.url = value();
        options.env = "custom";
        break;
      case "--allow-insecure":
        options.allowInsecure = true;
        break;
      case "--account":
        options.accountName = value();
        break;
      case "--key":
        options.apiKey = value();
        break;
      case "--epos-id":
        options.eposId = value();
        break;
      case "--software-house-id":
        options.softwareHouseId = value();
        break;
      case "--reseller-id":
        options.resellerId = value();
        break;
      case "--terminal":
        options.terminalId = value();
        break;
      case "--currency":
        options.currency = value();
        break;
      case "--auto":
        options.auto = true;
        break;
      case "--step-timeout":
        options.stepTimeoutMs = seconds();
        break;
      case "--redelivery-wait":
        options.redeliveryWaitMs = seconds();
        break;
      case "--only": {
        const names = value()
          .split(",")
          .map((s) => s.trim());
        const unknown = names.filter((n) => !STEPS.some((step) => step.name === n));
        if (unknown.length > 0) throw new UsageError(`unknown step ${unknown.join(", ")} (steps: ${STEPS.map((step) => step.name).join(", ")})`);
        options.only = names;
        break;
      }
      case "--report":
        parsed.report = value();
        break;
      case "--json":
        parsed.json = value();
        break;
      case "--help":
      case "-h":
        return "help";
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  for (const [flag, v] of [
    ["--account", options.accountName],
    ["--epos-id", options.eposId],
    ["--software-house-id", options.softwareHouseId],
  ] as const) {
    if (!v) throw new UsageError(`${flag} is required`);
  }
  return parsed;
}

/** Ask for the key without echoing it. */
function promptKey(): Promise<string> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    let asked = false;
    out._writeToOutput = (s: string) => {
      if (!asked) process.stdout.write(s);
    };
    rl.question("Dojo API key (not shown): ", (answer) => {
      rl.close();
      process.stdout.write("\n");
      resolve(answer.trim());
    });
    asked = true;
  });
}

function personPrompter(): { prompter: Prompter; close(): void } {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  const prompter: Prompter = {
    say: (text) => console.log(text),
    ask: (step, instruction) =>
      new Promise((resolve) => {
        console.log(`\n[${step}] ${instruction}`);
        rl.question("Press Enter when ready, or type s and Enter to skip: ", (a) => resolve(a.trim().toLowerCase().startsWith("s") ? "skip" : "go"));
      }),
  };
  return { prompter, close: () => rl.close() };
}

function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8")) as { version?: string };
    return pkg.version ?? "";
  } catch {
    return "";
  }
}

function exitCode(report: CheckReport): number {
  if (report.aborted) return 3;
  if (report.deviations.length > 0) return 1;
  return report.steps.some((s) => s.status === "timeout" || s.status === "failed") ? 5 : 0;
}

async function main(): Promise<number> {
  let parsed: Parsed | "help";
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed === "help") {
    console.log(USAGE);
    return 0;
  }
  const o = parsed.options;
  o.apiKey ??= process.env.DOJO_API_KEY;
  if (!o.apiKey) {
    if (!process.stdin.isTTY) {
      console.error(`no API key: give --key, set DOJO_API_KEY, or run in a terminal to be asked\n\n${USAGE}`);
      return 2;
    }
    o.apiKey = await promptKey();
  }
  const options = { ...o, version: version() } as CheckOptions;
  const secrets = credentialSecrets(options.accountName, options.apiKey);
  const person = options.auto ? undefined : personPrompter();
  let report: CheckReport;
  try {
    report = await runCheck(options, person?.prompter ?? { ask: () => Promise.resolve("go"), say: (t) => console.log(t) });
  } finally {
    person?.close();
  }
  if (parsed.report) fs.writeFileSync(parsed.report, toMarkdown(report, secrets));
  if (parsed.json) fs.writeFileSync(parsed.json, toJson(report, secrets));
  if (!parsed.report && !parsed.json) console.log(`\n${toMarkdown(report, secrets, { trace: false })}`);
  console.log(summary(report));
  if (parsed.report) console.log(`Report: ${parsed.report}`);
  if (parsed.json) console.log(`JSON: ${parsed.json}`);
  return exitCode(report);
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 4;
  },
);

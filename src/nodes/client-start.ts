/**
 * Starting a connection's client: the built-in simulator for the `simulator` environment, the URL
 * check, the journal and the client, with the options every path builds the same way
 * (clientOptions); and what a failure to start means for the user.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { checkUrl, credentialSecrets, describeStorageError, fileSafeName, PacClient, storageErrorCode } from "../engine";
import { PacSimulator } from "../simulator";
import type { NodeAPI } from "./red-types";
import { clientOptions, journalRoot, runtimeTuning, simulatorOptions } from "./settings";
import type { ConfigSettings } from "./settings";

export interface StartRequest {
  RED: NodeAPI;
  /** The config node's id: names the simulator's journal directory. */
  configId: string;
  settings: ConfigSettings;
  /** A simulator started by an earlier attempt (reused, not started again). */
  simulator: PacSimulator | null;
  lockLabel: string;
  warn(message: string): void;
  /** New secrets to redact (the simulator's credentials). */
  secrets(list: string[]): void;
  /** The simulator once started (the caller stops it at close). */
  simulatorStarted(sim: PacSimulator): void;
}

export interface Started {
  client: PacClient;
  journalDir: string;
}

/** Open the journal and the client (not connected yet: call start()). */
export async function startClient(req: StartRequest): Promise<Started> {
  const { settings } = req;
  let { url, accountName, apiKey } = settings;
  let journalDir = journalRoot(req.RED);
  if (settings.environment === "simulator") {
    const sim = req.simulator ?? (await PacSimulator.start(simulatorOptions()));
    if (sim !== req.simulator) req.simulatorStarted(sim);
    url = sim.url;
    accountName = sim.credentials.accountName;
    apiKey = sim.credentials.apiKey;
    req.secrets(credentialSecrets(accountName, apiKey));
    // A simulator forgets everything when it stops: its journal is for this run only.
    journalDir = path.join(journalDir, "simulator", fileSafeName(req.configId, 60));
    await fs.promises.rm(journalDir, { recursive: true, force: true });
  }
  const tuning = runtimeTuning(req.RED);
  checkUrl(url, tuning.allowInsecure); // before opening the journal: a refused URL must not leave it open
  const client = await PacClient.open(
    clientOptions({ ...settings, url, accountName, apiKey }, tuning, {
      journalDir,
      journal: { onWarning: (m) => req.warn(m), lockLabel: req.lockLabel },
      maxAmountSetting: maxAmountSetting(req.lockLabel),
    }),
  );
  return { client, journalDir };
}

/** Why a client could not start, as the user is told. */
export type StartFailure =
  /** Another connection (in this process or another) has this identity: no socket, no writer. */
  | { kind: "identity-in-use"; text: string }
  /** The journal could not be opened (disk full, read-only, no access): retried by itself. */
  | { kind: "storage"; short: string; words: string }
  | { kind: "config" };

export function startFailure(e: unknown, settings: ConfigSettings, reason: string): StartFailure {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "JOURNAL_LOCKED") {
    const holder = (e as { holder?: { label?: string; pid?: number } }).holder;
    const who = holder?.pid === process.pid ? (holder.label ?? "another connection") : reason;
    return {
      kind: "identity-in-use",
      text: `epos-id ${settings.eposId} is already used by ${who}: this connection stays off (give each till its own epos-id)`,
    };
  }
  // An error from the file system has an errno code such as ENOSPC; a settings error has none.
  if (/^E[A-Z]+$/.test(storageErrorCode(e))) {
    const text = describeStorageError(e);
    return { kind: "storage", short: text.short, words: text.words };
  }
  return { kind: "config" };
}

/** Where a connection's maximum per payment is changed, for its error (`label`: `connection "Front till"`). */
export function maxAmountSetting(label: string): string {
  return `"Maximum amount" in the Dojo ${label}`;
}

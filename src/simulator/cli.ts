#!/usr/bin/env node
/** dojo-pac-simulator: run the PAC simulator standalone and print how to connect to it. */
import { isLoopbackHost } from "../common/loopback";
import { HEADER, basicAuth } from "../protocol";
import { parseDrift } from "./drift";
import { PacSimulator } from "./simulator";
import type { SimulatorOptions } from "./types";

const USAGE = `Usage: dojo-pac-simulator [options]

  --port N         port to listen on (default 0: any free port)
  --host H         interface to bind (default 127.0.0.1)
  --terminals N    virtual terminals (default 2: SIM00001, SIM00002)
  --account NAME   account name (default: generated)
  --api-key KEY    API key (default: generated)
  --zero-delay     no pauses between terminal steps
  --strict         refuse params the contract does not list
  --drift LIST     differ from the contract on purpose (to try dojo-pac-check): "all" or a comma
                   list of renamedFields, errorNumbers, stringIds, unknownNotification, errorsUnderError
  --manual         terminals wait at PRESENT_CARD to be driven by hand
  --no-vt          do not serve the virtual terminal page at http://HOST:PORT/
  --verbose        print every frame in and out
  --help           show this text

Magic amounts (last two digits of baseAmount): 00 approve, 01 decline, 02 signature,
03 wait at PRESENT_CARD, 04 processing error, 05 chip and PIN; anything else approves.`;

class UsageError extends Error {}

function parseArgs(argv: readonly string[]): { options: SimulatorOptions; verbose: boolean } | "help" {
  const options: SimulatorOptions = {};
  const credentials: { accountName?: string; apiKey?: string } = {};
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    const int = (): number => {
      const v = value();
      if (!/^\d+$/.test(v)) throw new UsageError(`${arg} needs a whole number, got "${v}"`);
      return Number(v);
    };
    switch (arg) {
      case "--port":
        options.port = int();
        break;
      case "--host":
        options.host = value();
        break;
      case "--terminals":
        options.terminals = int();
        break;
      case "--account":
        credentials.accountName = value();
        break;
      case "--api-key":
        credentials.apiKey = value();
        break;
      case "--zero-delay":
        options.delays = "zero";
        break;
      case "--strict":
        options.strict = true;
        break;
      case "--drift":
        try {
          options.drift = parseDrift(value());
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
        break;
      case "--manual":
        options.manual = true;
        break;
      case "--no-vt":
        options.virtualTerminal = false;
        break;
      case "--verbose":
        verbose = true;
        break;
      case "--help":
      case "-h":
        return "help";
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  options.credentials = credentials;
  return { options, verbose };
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`${e.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (parsed === "help") {
    console.log(USAGE);
    return;
  }
  const sim = await PacSimulator.start(parsed.options);
  // Before printing anything: whoever reads the URL may signal us at once.
  const shutdown = (signal: string): void => {
    console.log(`\n${signal}: stopping`);
    sim.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  const { accountName, apiKey } = sim.credentials;
  console.log(`Dojo PAC simulator listening on ${sim.url}`);
  console.log(`  account name: ${accountName}`);
  console.log(`  API key:      ${apiKey}`);
  console.log(
    `  terminals:    ${sim
      .terminals()
      .map((t) => t.terminalId)
      .join(", ")}`,
  );
  console.log(`  headers:      ${HEADER.authorization}: ${basicAuth(accountName, apiKey)}`);
  console.log(`                ${HEADER.eposId}: <your till id>, ${HEADER.softwareHouseId}: <your software house id>`);
  if (sim.virtualTerminalUrl) {
    console.log(`Virtual terminals (play the customer): ${sim.virtualTerminalUrl}`);
    if (!isLoopbackHost(sim.host)) {
      console.log(`  warning: bound to ${sim.host}: anyone who can reach this port can drive the terminals (--no-vt to turn the page off)`);
    }
  }

  sim.on("connection", (c) => console.log(`+ ${c.eposId} connected (${c.softwareHouseId})`));
  sim.on("disconnection", (c) => console.log(`- ${c.eposId} disconnected (${c.code}${c.displaced ? ", displaced" : ""})`));
  sim.on("handshakeRejected", (r) => console.log(`! handshake refused: ${r.status} ${r.reason}`));
  if (parsed.verbose) {
    sim.on("frameIn", (f) => console.log(`${f.eposId} → ${f.text}`));
    sim.on("frameOut", (f) => console.log(`${f.eposId} ← ${f.text}`));
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

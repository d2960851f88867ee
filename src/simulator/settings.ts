/**
 * SimulatorOptions checked and defaulted once, before anything is built: a bad number throws here
 * with the option's name, and the simulator only ever sees valid settings.
 */
import { DEFAULT_MAX_FRAME_BYTES, DEFAULT_SIGNATURE_TIMEOUT_S } from "../protocol";
import { parseDrift } from "./drift";
import type { SimDriftKind } from "./drift";
import type { SimDelayMode, SimulatorOptions } from "./types";

const DEFAULTS = {
  host: "127.0.0.1",
  port: 0,
  terminals: 2,
  realisticStepMs: 300,
  recordRetryMs: 5_000,
  signatureTimeoutMs: DEFAULT_SIGNATURE_TIMEOUT_S * 1000,
  presentCardTimeoutMs: 60_000,
  pingIntervalMs: 30_000,
  /** ws refuses (close 1009) only far above maxFrameBytes, so oversized frames get a JSON-RPC answer. */
  maxPayload: 16 * 1024 * 1024,
} as const;

export interface SimulatorSettings {
  host: string;
  port: number;
  /** Terminals per account when the account does not say: a count or explicit ids. */
  terminals: number | readonly string[];
  stepMs: number;
  recordRetryMs: number;
  signatureTimeoutMs: number;
  presentCardTimeoutMs: number;
  pingIntervalMs: number;
  maxFrameBytes: number;
  /** The ws library's own frame limit. */
  maxPayload: number;
  /** Ways to differ from the contract (empty: none). */
  drift: ReadonlySet<SimDriftKind>;
}

function stepMs(delays: SimDelayMode | undefined): number {
  if (delays === "zero") return 0;
  if (delays === undefined || delays === "realistic") return DEFAULTS.realisticStepMs;
  if (!Number.isFinite(delays) || delays < 0) throw new Error(`delays must be "zero", "realistic" or ms >= 0`);
  return delays;
}

function nonNegative(name: string, v: number | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a number >= 0 (got ${v})`);
  return v;
}

/** Throws on the first bad option (in this order: delays, the timeouts, recordRetryMs, port, pingIntervalMs, drift). */
export function simulatorSettings(options: SimulatorOptions): SimulatorSettings {
  return {
    host: options.host ?? DEFAULTS.host,
    stepMs: stepMs(options.delays),
    signatureTimeoutMs: nonNegative("signatureTimeoutMs", options.signatureTimeoutMs, DEFAULTS.signatureTimeoutMs),
    presentCardTimeoutMs: nonNegative("presentCardTimeoutMs", options.presentCardTimeoutMs, DEFAULTS.presentCardTimeoutMs),
    recordRetryMs: nonNegative("recordRetryMs", options.recordRetryMs, DEFAULTS.recordRetryMs),
    port: nonNegative("port", options.port, DEFAULTS.port),
    pingIntervalMs: nonNegative("pingIntervalMs", options.pingIntervalMs, DEFAULTS.pingIntervalMs),
    terminals: options.terminals ?? DEFAULTS.terminals,
    maxFrameBytes: options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    maxPayload: Math.max(DEFAULTS.maxPayload, (options.maxFrameBytes ?? 0) * 2),
    drift: new Set(parseDrift(options.drift)),
  };
}

/**
 * Bounded waits on a client: for a connection state it reaches (or is in), and for an answer.
 * Both always end: a timer bounds them, and every listener they add is removed.
 */
import type { ConnectionState, StateInfo } from "./transport/connection";
import { PacError } from "./errors";

/** Anything with a connection state and its changes: a PacClient, a ConnectionProbe. */
export interface StateSource {
  readonly state: ConnectionState;
  on(event: "state", listener: (state: ConnectionState, info: StateInfo) => void): unknown;
  removeListener(event: "state", listener: (state: ConnectionState, info: StateInfo) => void): unknown;
}

/** The client's state once `done` accepts it (at once when the current one does), or "timeout" after `ms`. */
export function waitForState(client: StateSource, done: (s: ConnectionState) => boolean, ms: number): Promise<ConnectionState | "timeout"> {
  return new Promise((resolve) => {
    if (done(client.state)) return resolve(client.state);
    const onState = (s: ConnectionState): void => {
      if (done(s)) finish(s);
    };
    const finish = (s: ConnectionState | "timeout"): void => {
      clearTimeout(timer);
      client.removeListener("state", onState);
      resolve(s);
    };
    const timer = setTimeout(() => finish("timeout"), ms);
    client.on("state", onState);
  });
}

/** `p`, or a PacError TIMEOUT after `ms` (p itself is not cancelled). */
export function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new PacError("TIMEOUT", `no answer within ${Math.round(ms / 1000)} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

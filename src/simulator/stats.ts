/** The simulator's live counters, zeroed (PacSimulator.stats, resetStats). */
import type { SimulatorStats } from "./types";

export function emptyStats(): SimulatorStats {
  return {
    connectionAttempts: 0,
    connectionsOpened: 0,
    displaced: 0,
    handshakesRejected: {},
    requests: {},
    createPaymentIds: [],
    createRefundIds: [],
    recordsSent: 0,
    recordsAcked: 0,
  };
}

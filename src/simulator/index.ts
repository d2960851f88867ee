/** The Dojo PAC simulator: the Dojo side of the contract, for tests, demos, benchmarks and the CLI. */
export { PacSimulator, startSimulator } from "./simulator";
export { SimulatorFaults } from "./faults";
export { DRIFT, DRIFT_KINDS, parseDrift } from "./drift";
export type { SimDriftKind } from "./drift";
export type { SimFaultConfig } from "./faults";
export { SimActionError } from "./terminal";
export { createVirtualTerminalHandler, describeTerminal, formatAmount, VT_ACTIONS } from "./vt";
export type { VirtualTerminalHandler, VirtualTerminalOptions, VtHost, VtItem, VtNext, VtTone, VtView } from "./vt";
export { MAGIC_AMOUNTS, SCENARIOS as SIM_SCENARIOS, scenarioFor } from "./scenarios";
export type { Scenario as SimScenario } from "./scenarios";
export type {
  SimAccountOptions,
  SimConnectionInfo,
  SimCredentials,
  SimDelayMode,
  SimDisconnectionInfo,
  SimFrameEvent,
  SimHandshakeRejection,
  SimPayment,
  SimPrintedSlip,
  SimRecordEvent,
  SimSlipInput,
  SimTerminalAction,
  SimTerminalSnapshot,
  SimTerminalStep,
  SimTransactionKind,
  SimulatorEventMap,
  SimulatorOptions,
  SimulatorStats,
} from "./types";

/**
 * The editor's admin endpoints (pac-config registers them once per runtime). One file per job:
 * routes.ts (the endpoints and their per-runtime state), http.ts (request/response types,
 * permissions), deployed.ts (deployed config nodes), connection-test.ts, status.ts, terminals.ts
 * (the ConnectedTerminals cache), virtual-terminal.ts (the simulator's page).
 */
export { registerAdminEndpoints } from "./routes";
export type { AdminState } from "./routes";
export { READ_PERMISSION, WRITE_PERMISSION } from "./http";
export type { AdminNodeAPI, AdminRequest, AdminResponse, Middleware } from "./http";
export { classifyReason, testConnection } from "./connection-test";
export type { TestProblem, TestResult } from "./connection-test";
export { statusReport } from "./status";
export type { StatusReport, TerminalRow } from "./status";
export type { PaymentRow } from "../../engine";

/** dojo-pac-check as a library: run the conformance check and render its report (no Node-RED here). */
export { runCheck, SILENT } from "./run";
export type { CheckOptions, CheckReport, Prompter, StepReport, StepStatus } from "./run";
export { toJson, toMarkdown, summary } from "./report";
export type { Deviation, TraceEntry } from "./session";
export type { DeviationKind, Finding } from "./compare";
export type { FixLocation } from "./locate";

/** The PAC wire contract: every wire name, typed params/results, framing and tolerant readers. */
export * from "./wire";
export * from "./schema";
export * from "./codec";
export * from "./receipt";
export * from "./aliases";
export * from "./conformance";

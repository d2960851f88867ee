/**
 * @shopflow/node-red-dojo-pac engine: usable without Node-RED.
 * `PacClient` (managed connection + journal), `PacSimulator` (the Dojo side, for tests and demos),
 * and the protocol definitions.
 */
export * from "./protocol";
export * from "./engine";
export * from "./simulator";

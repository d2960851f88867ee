/** The virtual terminal page: a request handler to mount on the simulator's server or in Node-RED. */
export { createVirtualTerminalHandler } from "./handler";
export type { VirtualTerminalHandler, VirtualTerminalOptions, VtItem, VtNext } from "./handler";
export type { VtHost, VtTerminalListener } from "./host";
export { VT_ACTIONS, describeTerminal, formatAmount } from "./view";
export type { VtTone, VtView } from "./view";

/**
 * What the virtual terminal page needs of a simulator. PacSimulator implements it; the page depends
 * on this interface, not on simulator.ts, so the simulator can mount the page without an import circle.
 */
import type { SimPrintedSlip, SimTerminalAction, SimTerminalSnapshot } from "../types";

export type VtTerminalListener = (t: SimTerminalSnapshot) => void;
export type VtSlipListener = (s: SimPrintedSlip) => void;

export interface VtHost {
  /** stop() has been called: the page answers 503. */
  readonly isStopped: boolean;
  /** Every account's terminals (the page filters by account itself). */
  terminals(): SimTerminalSnapshot[];
  /** Rejects with SimActionError when the action is not possible now. */
  act(terminalId: string, action: SimTerminalAction, accountName?: string): Promise<SimTerminalSnapshot>;
  setManual(terminalId: string, manual: boolean, accountName?: string): SimTerminalSnapshot;
  setOnline(terminalId: string, online: boolean, accountName?: string): SimTerminalSnapshot;
  /** The virtual receipt printers' slips (every account's; newest first per terminal). */
  slips(): SimPrintedSlip[];
  /**
   * "terminal": a terminal changed; "slip": a flow printed a slip on a terminal's virtual printer;
   * "stopping": the simulator is stopping (the event streams end).
   */
  on(event: "terminal", listener: VtTerminalListener): unknown;
  on(event: "slip", listener: VtSlipListener): unknown;
  on(event: "stopping", listener: () => void): unknown;
  off(event: "terminal", listener: VtTerminalListener): unknown;
  off(event: "slip", listener: VtSlipListener): unknown;
  off(event: "stopping", listener: () => void): unknown;
}

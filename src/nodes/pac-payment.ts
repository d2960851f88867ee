/** pac-payment: take a card payment (sale or pre-auth) on a Dojo terminal. See transaction.ts. */
import type { NodeAPI } from "./red-types";
import { registerTransactionType } from "./transaction";

export = function register(RED: NodeAPI): void {
  registerTransactionType(RED, "payment");
};

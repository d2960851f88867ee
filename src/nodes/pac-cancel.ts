/**
 * pac-cancel: cancel a payment or refund while the terminal asks for the card (or reverse an
 * authorised pre-auth). Input: msg.payload = {paymentId, terminalId?} or msg.paymentId.
 * Output: msg.payload = {paymentId, terminalId} (Dojo's acknowledgement; the CANCELLED outcome
 * arrives on the payment node's output 2).
 */
import { isPaymentId, isTerminalId } from "../engine";
import type { DoneFn, Node, NodeAPI, NodeMessage, SendFn } from "./red-types";
import { invalidInput } from "./flow-error";
import { describe, isPlainObject, paymentIdOf } from "./msg-readers";
import type { UserDef } from "./user-node";
import { UserNode, userNodeType } from "./user-node";

class CancelNode extends UserNode {
  constructor(RED: NodeAPI, node: Node, def: UserDef) {
    super(RED, node, def, "pac-cancel");
    this.start();
  }

  protected async handle(msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> {
    const p = msg.payload;
    const paymentId = paymentIdOf(msg);
    const terminalId = isPlainObject(p) && p.terminalId !== undefined && p.terminalId !== "" ? p.terminalId : undefined;
    if (!isPaymentId(paymentId)) {
      throw invalidInput(`cancel needs the paymentId: send msg.payload = {paymentId: "<id>"} or set msg.paymentId; got ${describe(paymentId)}`);
    }
    if (terminalId !== undefined && !isTerminalId(terminalId)) {
      throw invalidInput(`msg.payload.terminalId must be a terminal id such as "01234567", got ${describe(terminalId)}`, paymentId);
    }
    const client = await this.client();
    this.activity({ fill: "blue", shape: "ring", text: this.t("runtime.cancelling") });
    const ack = await client.cancelPayment(paymentId, terminalId);
    msg.paymentId = ack.paymentId;
    msg.payload = { paymentId: ack.paymentId, terminalId: ack.terminalId };
    this.activity({ fill: "green", shape: "dot", text: this.t("runtime.cancelRequested") });
    send(msg);
    done();
  }
}

export = function register(RED: NodeAPI): void {
  userNodeType<UserDef>(RED, "pac-cancel", (node, def) => new CancelNode(RED, node, def));
};

/**
 * pac-capture: capture a pre-authorised (MANUAL) payment, or update the amount it holds.
 * Input: msg.payload = {paymentId, amount}, or msg.paymentId with msg.payload = amount.
 * msg.topic "capture" / "update" overrides the node's action. A capture without an amount takes
 * the whole authorised amount (read with GetPayment). Output: msg.payload = {paymentId, status, amount}.
 */
import { isAmount, isPaymentId } from "../engine";
import type { Node, NodeAPI, NodeMessage, DoneFn, SendFn } from "./red-types";
import { invalidInput } from "./flow-error";
import { amountExample, describe, formatMoney, isPlainObject, minorUnits, paymentIdOf } from "./msg-readers";
import type { UserDef } from "./user-node";
import { UserNode, userNodeType } from "./user-node";

interface CaptureDef extends UserDef {
  action?: string;
}

type Action = "capture" | "update";

class CaptureNode extends UserNode {
  private readonly action: Action;

  constructor(RED: NodeAPI, node: Node, def: CaptureDef) {
    super(RED, node, def, "pac-capture");
    this.action = def.action === "update" ? "update" : "capture";
    this.start();
  }

  protected async handle(msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> {
    const action: Action = msg.topic === "update" || msg.topic === "capture" ? msg.topic : this.action;
    const p = msg.payload;
    const paymentId = paymentIdOf(msg);
    const amount = minorUnits(isPlainObject(p) ? p.amount : p, isPlainObject(p) ? "msg.payload.amount" : "msg.payload", undefined);
    const shape = `send msg.payload = {paymentId: "<id>", amount: 1250}, or msg.paymentId with msg.payload = 1250`;
    if (!isPaymentId(paymentId)) {
      throw invalidInput(`${action} needs the paymentId of a pre-authorised payment: ${shape}; got paymentId ${describe(paymentId)}`);
    }
    if (amount !== undefined && amount !== null && !isAmount(amount)) {
      throw invalidInput(`the amount must be a whole number of minor units greater than 0 (${amountExample(undefined)}); got ${describe(amount)}`, paymentId);
    }
    const client = await this.client();
    let value = isAmount(amount) ? amount : undefined;
    let currency: string | undefined;
    if (value === undefined) {
      if (action === "update") throw invalidInput(`update needs the new amount: ${shape}`, paymentId);
      const state = await client.getPayment(paymentId);
      currency = state.currency;
      value = state.authorizedAmount ?? state.baseAmount;
      if (typeof value !== "number" || value <= 0) {
        throw invalidInput(`the authorised amount of ${paymentId} is unknown: send the amount to capture (${shape})`, paymentId);
      }
    }
    this.activity({ fill: "blue", shape: "ring", text: action === "capture" ? this.t("runtime.capturing") : this.t("runtime.updating") });
    const result = action === "capture" ? await client.capturePayment(paymentId, value) : await client.updatePayment(paymentId, value);
    msg.paymentId = result.paymentId;
    msg.payload = { paymentId: result.paymentId, status: result.status, amount: result.amount };
    const money = formatMoney(result.amount, currency ?? client.journal.get(paymentId)?.currency);
    this.activity({ fill: "green", shape: "dot", text: `${result.status.toLowerCase()}${money ? " " + money : ""}` });
    send(msg);
    done();
  }
}

export = function register(RED: NodeAPI): void {
  userNodeType<CaptureDef>(RED, "pac-capture", (node, def) => new CaptureNode(RED, node, def));
};

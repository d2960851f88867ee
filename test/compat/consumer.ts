// Type-checked (not run) by scripts/compat.js against the .d.ts files in the packed tarball.
import { PacClient, PacSimulator } from "@shopflow/node-red-dojo-pac";
import type { PaymentOutcome, PacClientOptions } from "@shopflow/node-red-dojo-pac";

export async function sale(journalDir: string): Promise<PaymentOutcome> {
  const sim: PacSimulator = await PacSimulator.start({ delays: "zero" });
  const opts: PacClientOptions = { url: sim.url, ...sim.credentials, eposId: "till-1", softwareHouseId: "my-epos", journalDir };
  const client = await PacClient.open(opts);
  const outcome = new Promise<PaymentOutcome>((resolve) => client.on("outcome", (o) => resolve(o)));
  client.start();
  const ack = await client.createPayment({ terminalId: "SIM00001", amount: 1250, currency: "GBP" });
  const paymentId: string = ack.paymentId;
  const result = await outcome;
  if (result.paymentId !== paymentId) throw new Error("another payment");
  await client.close();
  await sim.stop();
  return result;
}

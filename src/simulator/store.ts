/** Accounts: credentials, virtual terminals and payments, each scoped to its account. */
import { randomBytes, timingSafeEqual } from "crypto";
import type { SimAccountOptions, SimCredentials, SimPayment } from "./types";
import type { VirtualTerminal } from "./terminal";

export interface Account {
  readonly credentials: SimCredentials;
  readonly terminals: ReadonlyMap<string, VirtualTerminal>;
  /** Payments and refunds by paymentId (both share one id space). */
  readonly payments: Map<string, SimPayment>;
}

/** Key of one EPOS of one account: connections, notifications and pending records use it. */
export function eposKey(accountName: string, eposId: string): string {
  return `${accountName}\u0000${eposId}`;
}

export function terminalIds(spec: number | readonly string[]): string[] {
  if (typeof spec !== "number") return [...spec];
  return Array.from({ length: spec }, (_, i) => `SIM${String(i + 1).padStart(5, "0")}`);
}

export function makeCredentials(options: SimAccountOptions): SimCredentials {
  const accountName = options.accountName ?? `sim-${randomBytes(4).toString("hex")}`;
  // Basic auth splits at the first colon, so an account name cannot contain one.
  if (accountName.includes(":")) throw new Error(`account name "${accountName}" must not contain ":"`);
  return { accountName, apiKey: options.apiKey ?? randomBytes(24).toString("base64url") };
}

export class AccountStore {
  private readonly accounts = new Map<string, Account>();

  add(credentials: SimCredentials, terminals: readonly VirtualTerminal[]): Account {
    if (this.accounts.has(credentials.accountName)) {
      throw new Error(`account "${credentials.accountName}" is configured twice`);
    }
    const account: Account = {
      credentials,
      terminals: new Map(terminals.map((t) => [t.id, t])),
      payments: new Map(),
    };
    this.accounts.set(credentials.accountName, account);
    return account;
  }

  /** The account whose credentials match, compared in constant time. */
  authenticate(accountName: string, apiKey: string): Account | undefined {
    const account = this.accounts.get(accountName);
    if (!account) return undefined;
    const want = Buffer.from(account.credentials.apiKey);
    const got = Buffer.from(apiKey);
    return want.length === got.length && timingSafeEqual(want, got) ? account : undefined;
  }

  /** An account by name; the first one when no name is given. Throws for an unknown name. */
  get(accountName?: string): Account {
    const account = accountName === undefined ? this.accounts.values().next().value : this.accounts.get(accountName);
    if (!account) throw new Error(`unknown account "${accountName ?? ""}"`);
    return account;
  }

  all(): Account[] {
    return [...this.accounts.values()];
  }
}

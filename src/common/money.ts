/** How to show an amount in minor units of a currency (engine and simulator page share it). */
export interface MoneyFormat {
  /** Major units (12.5) -> "£12.50". */
  format: (major: number) => string;
  /** The currency's minor-unit digits (2 for GBP, 0 for JPY). */
  digits: number;
}

const formats = new Map<string, MoneyFormat | null>();

/**
 * The en-GB format of an ISO 4217 currency, or null for a code Intl does not know. Cached: building
 * one costs more than a whole payment's glue.
 */
export function moneyFormat(currency: string): MoneyFormat | null {
  let f = formats.get(currency);
  if (f !== undefined) return f;
  try {
    const intl = new Intl.NumberFormat("en-GB", { style: "currency", currency });
    f = { format: (n) => intl.format(n), digits: intl.resolvedOptions().maximumFractionDigits ?? 2 };
  } catch {
    f = null;
  }
  if (formats.size < 400) formats.set(currency, f);
  return f;
}

/**
 * 1250 GBP -> "£12.50", 1250 JPY -> "JP¥1,250": minor units by the currency's own number of decimals.
 * No amount -> ""; a code Intl refuses -> "1250 XYZ minor units" (never a guessed decimal point).
 */
export function formatMoney(amount: number | undefined, currency: string | undefined): string {
  if (typeof amount !== "number" || !Number.isFinite(amount)) return "";
  const f = currency ? moneyFormat(currency) : null;
  if (!f) return currency ? `${amount} ${currency} minor units` : String(amount);
  return f.format(amount / 10 ** f.digits);
}

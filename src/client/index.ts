export * from "./errors";
export * from "./backoff";
export * from "./connection";
export * from "./journal";
export * from "./payment";
export * from "./pac-client";
export { isAmount, isCurrency, isPaymentId, isTerminalId, isCaptureMode } from "./validate";
export { redactSecrets } from "./redact";

/** Stable error codes of @lvs/healthcheck. */
export type HealthcheckErrorCode =
  | "HC_BAD_DEFINITION"
  | "HC_DNS_ENCODE"
  | "HC_DNS_DECODE"
  | "HC_BAD_HEX"
  | "HC_DUPLICATE_TARGET"
  | "HC_RUNNER_STOPPED"
  | "HC_WORKER_ENTRY"
  | "HC_WORKER_FAILED";

/** The one error class of @lvs/healthcheck. `option` names the keepalived option at fault. */
export class HealthcheckError extends Error {
  readonly code: HealthcheckErrorCode;
  readonly option: string | undefined;
  constructor(code: HealthcheckErrorCode, message: string, context: { option?: string } = {}) {
    super(message);
    this.name = "HealthcheckError";
    this.code = code;
    this.option = context.option;
  }
}

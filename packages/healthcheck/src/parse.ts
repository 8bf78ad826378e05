import { HealthcheckError } from "./errors.js";

/** Parse keepalived's `status_code` value list: "200", "200-299", "200,301-302". */
export function parseStatusCodes(spec: string): Array<number | [number, number]> {
  return spec
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((part) => {
      const m = /^(\d{3})(?:-(\d{3}))?$/.exec(part);
      if (!m) {
        throw new HealthcheckError("HC_BAD_DEFINITION", `status_code: "${part}" is not NNN or NNN-NNN`, {
          option: "status_code",
        });
      }
      const lo = Number(m[1]);
      const hi = m[2] !== undefined ? Number(m[2]) : undefined;
      if (hi !== undefined && hi < lo) {
        throw new HealthcheckError(
          "HC_BAD_DEFINITION",
          `status_code: range "${part}" is reversed; write ${hi}-${lo}`,
          { option: "status_code" },
        );
      }
      return hi === undefined ? lo : ([lo, hi] as [number, number]);
    });
}

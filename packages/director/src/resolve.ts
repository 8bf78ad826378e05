// What an operator types (`10.0.0.1:80`, `fwm:5`, `group:WEB`, `10.1.0.2`) resolved to one
// virtual server of a plan and one of its real servers, with errors that say what exists.
import { destFor, type Plan, type PlannedRealServer, type PlannedVirtualServer } from "./compile.js";
import { DirectorError } from "./errors.js";
import type { RsReference, VsReference } from "./keys.js";

/** The one real server of `vs` that `rsRef` names (its port, or the port one of its services gives it). */
export function resolveRealServer(
  vs: PlannedVirtualServer,
  rsRef: RsReference,
): { vs: PlannedVirtualServer; rs: PlannedRealServer } {
  const matches = vs.realServers.filter(
    (r) =>
      r.address === rsRef.address &&
      (rsRef.port === undefined ||
        r.port === rsRef.port ||
        vs.services.some((s) => destFor(s, r, 0).port === rsRef.port)),
  );
  const text = rsRef.port === undefined ? rsRef.address : `${rsRef.address}:${rsRef.port}`;
  if (matches.length === 0) {
    throw new DirectorError(
      "DIRECTOR_NOT_FOUND",
      `virtual server ${vs.key} has no real server ${text}; it has ${vs.realServers.map((r) => r.key).join(", ")}`,
      { object: `${vs.key} ${text}` },
    );
  }
  if (matches.length > 1) {
    throw new DirectorError(
      "DIRECTOR_AMBIGUOUS",
      `${text} matches ${matches.map((r) => r.key).join(", ")} in ${vs.key}; give the port`,
      { object: `${vs.key} ${text}` },
    );
  }
  return { vs, rs: matches[0] as PlannedRealServer };
}

function candidates(plan: Plan, ref: VsReference): { found: PlannedVirtualServer[]; text: string } {
  const all = plan.virtualServers;
  if (ref.kind === "key") return { found: all.filter((v) => v.key === ref.key), text: ref.key };
  if (ref.kind === "fwmark") {
    return {
      found: all.filter((v) => v.services.some((s) => s.service.fwmark === ref.fwmark)),
      text: `fwmark ${ref.fwmark}`,
    };
  }
  if (ref.kind === "group") {
    return {
      found: all.filter(
        (v) =>
          v.key.startsWith(`GROUP/${ref.name}`) &&
          (ref.protocol === undefined || v.protocol === ref.protocol),
      ),
      text: `group ${ref.name}`,
    };
  }
  return {
    found: all.filter(
      (v) =>
        (ref.protocol === undefined || v.protocol === ref.protocol) &&
        v.services.some(
          (s) => s.service.address === ref.address && (ref.port === undefined || s.service.port === ref.port),
        ),
    ),
    text: ref.port === undefined ? ref.address : `${ref.address}:${ref.port}`,
  };
}

/** The one virtual server of `plan` that `ref` names. */
export function resolveVirtualServer(plan: Plan, ref: VsReference): PlannedVirtualServer {
  const { found, text } = candidates(plan, ref);
  if (found.length === 0) {
    throw new DirectorError("DIRECTOR_NOT_FOUND", `no virtual server ${text}`, { object: text });
  }
  if (found.length > 1) {
    throw new DirectorError(
      "DIRECTOR_AMBIGUOUS",
      `${text} matches ${found.map((v) => v.key).join(", ")}; name one of these`,
      { object: text },
    );
  }
  return found[0] as PlannedVirtualServer;
}

/**
 * The hot path of a table dump: GET_DEST replies straight into `DestinationEntry` objects.
 *
 * A full table read decodes every real server of every service (20 counters each). The codec's
 * DEST table drives it (decodeDestReply: the same readers and checks, compiled once), without
 * what only byte-exact re-encoding needs (attribute order, unknown attributes, copies of the
 * address bytes). The result equals `destEntryFromAttrs(decodeIpvsMessage(payload).dest)`; a
 * property test holds the two paths together. Pure.
 */
import { decodeDestReply } from "./codec.js";
import { destEntryFromAttrs } from "./model.js";
import type { DestinationEntry } from "./types.js";

/**
 * One GET_DEST dump part (genl header + attributes) → its destination, or undefined when the
 * part carries none. `svcAf` is the service's family, used when IPVS_DEST_ATTR_ADDR_FAMILY is
 * absent (kernels before 4.9).
 */
export function decodeDestEntry(payload: Uint8Array, svcAf: number): DestinationEntry | undefined {
  const dest = decodeDestReply(payload);
  return dest ? destEntryFromAttrs(dest, svcAf) : undefined;
}

// The IPv4 persistence netmask travels as network-order bytes read as a little-endian u32.
import { describe, expect, it } from "vitest";
import * as C from "../src/constants.js";
import { decodeNetmask, encodeNetmask } from "../src/model.js";

describe("persistence netmask", () => {
  it("decodes every IPv4 prefix length it encodes, from the bytes the kernel holds", () => {
    for (let prefix = 0; prefix <= 32; prefix++) {
      const raw = encodeNetmask(C.AF_INET, prefix);
      expect(decodeNetmask(C.AF_INET, raw)).toBe(prefix);
    }
    // 255.255.255.0 as the kernel sends it: bytes ff ff ff 00, read little-endian.
    expect(decodeNetmask(C.AF_INET, 0x00ffffff)).toBe(24);
    expect(encodeNetmask(C.AF_INET, 24)).toBe(0x00ffffff);
  });

  it("refuses a non-contiguous mask, naming it in dotted form", () => {
    // bytes ff 00 ff 00 = 255.0.255.0
    expect(() => decodeNetmask(C.AF_INET, 0x00ff00ff)).toThrow(/255\.0\.255\.0/);
  });

  it("passes IPv6 prefix lengths through", () => {
    expect(decodeNetmask(C.AF_INET6, 64)).toBe(64);
  });
});

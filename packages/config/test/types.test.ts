// Type-level proofs, checked by `tsc` (pnpm typecheck) — the runtime asserts are trivial.
//  1. Checker definitions are @lvs/healthcheck's CheckDefinition / TargetPolicy: the director passes
//     them through unchanged. (@lvs/healthcheck is a devDependency only; src/ never imports it.)
//  2. The model (model.ts) and the schema (schema.ts) agree.
import type { CheckDefinition, TargetConfig, TargetPolicy } from "@lvs/healthcheck";
import { describe, expectTypeOf, it } from "vitest";
import type { z } from "zod";
import type {
  CheckDef,
  Checker,
  CheckPolicy,
  GlobalDefs,
  HttpCheckDef,
  LvsConfig,
  MiscCheckDef,
  RunAs,
  VirtualServerGroup,
  VrrpInstance,
  VrrpScript,
  VrrpSyncGroup,
} from "../src/index.js";
import type {
  GlobalDefsSchema,
  LvsConfigSchema,
  RunAsSchema,
  VirtualServerGroupSchema,
  VrrpInstanceSchema,
  VrrpScriptSchema,
  VrrpSyncGroupSchema,
} from "../src/schema.js";

type Out<S extends z.ZodType> = z.output<S>;
type RunAsIn = z.output<typeof RunAsSchema>;
type IsRunAs<T> = [Exclude<T, undefined>] extends [RunAsIn]
  ? [RunAsIn] extends [Exclude<T, undefined>]
    ? true
    : false
  : false;
/** The schema's output with RunAs's YAML shorthand (resolved at load time) replaced by RunAs. */
type NoShorthand<T> =
  IsRunAs<T> extends true
    ? RunAs | Extract<T, undefined>
    : T extends readonly (infer U)[]
      ? NoShorthand<U>[]
      : T extends object
        ? { [K in keyof T]: NoShorthand<T[K]> }
        : T;

describe("compatibility with @lvs/healthcheck", () => {
  it("every model check definition is a healthcheck CheckDefinition", () => {
    expectTypeOf<CheckDef>().toExtend<CheckDefinition>();
    expectTypeOf<HttpCheckDef>().toExtend<Extract<CheckDefinition, { type: "http" | "https" }>>();
    expectTypeOf<MiscCheckDef>().toExtend<Extract<CheckDefinition, { type: "misc" }>>();
  });
  it("every checker policy is a healthcheck TargetPolicy", () => {
    expectTypeOf<CheckPolicy>().toExtend<TargetPolicy>();
    // what the director builds, field for field
    const target = (c: Checker, id: string): TargetConfig => ({ id, check: c.check, policy: c.policy });
    expectTypeOf(target).returns.toEqualTypeOf<TargetConfig>();
  });
});

describe("model.ts and schema.ts agree", () => {
  it("exactly, for the parts without inheritance", () => {
    expectTypeOf<VrrpInstance>().toEqualTypeOf<NoShorthand<Out<typeof VrrpInstanceSchema>>>();
    expectTypeOf<VrrpScript>().toEqualTypeOf<NoShorthand<Out<typeof VrrpScriptSchema>>>();
    expectTypeOf<VrrpSyncGroup>().toEqualTypeOf<NoShorthand<Out<typeof VrrpSyncGroupSchema>>>();
    expectTypeOf<GlobalDefs>().toEqualTypeOf<NoShorthand<Out<typeof GlobalDefsSchema>>>();
    expectTypeOf<VirtualServerGroup>().toEqualTypeOf<Out<typeof VirtualServerGroupSchema>>();
  });
  it("a loaded model is always valid schema input (convertToYaml relies on it)", () => {
    expectTypeOf<LvsConfig>().toExtend<z.input<typeof LvsConfigSchema>>();
  });
});

// Every lvsctl command group. Each feature owns one file in this folder exporting
// `register(program)`; add it here (import + array entry) and nowhere else.
import type { Command } from "commander";
import { register as registerBgp } from "./bgp.js";
import { register as registerCheck } from "./check.js";
import { register as registerCompletion } from "./completion.js";
import { register as registerConfig } from "./config.js";
import { register as registerDirector } from "./director.js";
import { register as registerIpvs } from "./ipvs.js";
import { register as registerNetconf } from "./netconf.js";
import { register as registerSched } from "./sched.js";
import { register as registerSync } from "./sync.js";
import { register as registerUp } from "./up.js";

export type RegisterCommand = (program: Command) => void;

export const commandGroups: RegisterCommand[] = [
  registerIpvs,
  registerSync,
  registerCheck,
  registerConfig,
  registerNetconf,
  registerDirector,
  registerCompletion,
  registerUp,
  registerSched,
  registerBgp,
];

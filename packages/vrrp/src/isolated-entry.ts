/** The entry module of an isolated VRRP router's child process (forked by IsolatedRouter). */
import { runIsolatedRouterChild } from "./isolated-child.js";

runIsolatedRouterChild();

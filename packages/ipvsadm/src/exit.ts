/**
 * What ipvsadm prints and exits with when it does not run a command (help, version, a refused
 * command line), and how the parser's steps stop at the first refusal.
 */

/** What ipvsadm would print and exit with instead of running a command. */
export interface IpvsadmExit {
  exit: number;
  stdout: string;
  stderr: string;
}

export const VERSION_TEXT = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)\n";

export function tryHelp(program: string): IpvsadmExit {
  return {
    exit: 255,
    stdout: "",
    stderr: `Try \`${program} -h' or '${program} --help' for more information.\n`,
  };
}

/** Thrown by a parsing step; parseIpvsadm turns it into its result. */
export class Refusal {
  constructor(readonly result: IpvsadmExit) {}
}

/** ipvsadm's fail(2, ...): the message on stderr, exit status 2. */
export function fail(msg: string): never {
  throw new Refusal({ exit: 2, stdout: "", stderr: `${msg}\n` });
}

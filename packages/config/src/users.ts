// User/group name → id, as keepalived's set_uid_gid() does with getpwnam/getgrnam, read from
// /etc/passwd and /etc/group (pure JS, no native addon). Injectable for tests and other hosts.
import { readFileSync } from "node:fs";

export interface UserIds {
  uid: number;
  gid: number;
}

/** Resolve `user [group]` to ids; undefined when the user (or group) does not exist. */
export type LookupUser = (user: string, group?: string) => UserIds | undefined;

function parseDb(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const f = line.split(":");
    if (f[0] && !m.has(f[0])) m.set(f[0], f);
  }
  return m;
}

/** A lookup over passwd/group file contents (format of passwd(5) / group(5)). */
export function lookupFromFiles(passwd: string, group: string): LookupUser {
  const users = parseDb(passwd);
  const groups = parseDb(group);
  return (user, grp) => {
    const u = users.get(user);
    let uid: number;
    let gid: number;
    if (u) {
      uid = Number(u[2]);
      gid = Number(u[3]);
    } else if (/^\d+$/.test(user)) {
      uid = Number(user);
      gid = uid;
    } else {
      return undefined;
    }
    if (grp !== undefined) {
      const g = groups.get(grp);
      if (g) gid = Number(g[2]);
      else if (/^\d+$/.test(grp)) gid = Number(grp);
      else return undefined;
    }
    return { uid, gid };
  };
}

let cached: LookupUser | undefined;

/** This host's /etc/passwd and /etc/group (read once). */
export const systemLookupUser: LookupUser = (user, group) => {
  if (!cached) {
    const read = (p: string) => {
      try {
        return readFileSync(p, "utf8");
      } catch {
        return "";
      }
    };
    cached = lookupFromFiles(read("/etc/passwd"), read("/etc/group"));
  }
  return cached(user, group);
};

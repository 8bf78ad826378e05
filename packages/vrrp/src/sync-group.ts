/**
 * keepalived's vrrp_sync_group (vrrp_sync.c), pure: the member instances move together. A member
 * becoming MASTER pulls the others to MASTER (only once every member wants it: "prefer backup
 * state to avoid thrashing"), one falling back to BACKUP takes the others along, and one FAULT
 * puts the whole group in FAULT until every member is up again.
 */
import type { GroupLink, VrrpInstanceEngine, VrrpState } from "./engine.js";
import { VrrpError } from "./errors.js";

export type GroupEffect = { type: "group-state"; group: string; from: VrrpState; to: VrrpState };

export class VrrpSyncGroup implements GroupLink<VrrpInstanceEngine> {
  private _state: VrrpState = "init";
  readonly members: VrrpInstanceEngine[] = [];

  constructor(
    readonly name: string,
    members: VrrpInstanceEngine[],
    private readonly onEffect: (e: GroupEffect) => void,
  ) {
    for (const m of members) {
      if (m.group) {
        throw new VrrpError(
          "VRRP_BAD_CONFIG",
          `instance ${m.name} cannot be in more than one sync group (${name})`,
          {
            object: m.name,
          },
        );
      }
      m.group = this;
      this.members.push(m);
    }
    if (this.members.length === 0) {
      throw new VrrpError("VRRP_BAD_CONFIG", `sync group ${name} has no member instance`, { object: name });
    }
    // vrrp_sync_set_group(): MASTER only when every member is an owner wanting MASTER
    const allOwners = this.members.every((m) => m.isOwner && m.wantState === "master");
    this._state = allOwners ? "master" : "backup";
  }

  get state(): VrrpState {
    return this._state;
  }

  /** Starts the members (and announces the group's initial state, as vrrp_init_state()). */
  start(): void {
    if (this.members.some((m) => m.ownFaults > 0)) this._state = "fault";
    if (this._state === "fault" || this._state === "backup") {
      this.onEffect({ type: "group-state", group: this.name, from: "init", to: this._state });
    }
    for (const m of this.members) m.start();
  }

  /**
   * Reload (keepalived vrrp_complete_init() + vrrp_init_state() with `reload` set): a group built
   * again over instances that may already be running. Its state is MASTER when every member is,
   * FAULT when a member has faults, else BACKUP; it is reported only if it differs from the
   * group's state before the reload (`state_same_at_reload`). Members not started yet start in
   * that state; a running MASTER member of a BACKUP group goes to BACKUP (and tries MASTER again
   * after one advert interval, as keepalived); running members of a FAULT group go to FAULT.
   */
  resume(previous: VrrpState | undefined): void {
    const running = this.members.filter((m) => m.started && m.state !== "stop");
    const faulty = this.members.some((m) => m.ownFaults > 0 || (m.started && m.state === "fault"));
    const allMaster = this.members.every((m) => m.state === "master");
    this._state = faulty ? "fault" : allMaster ? "master" : "backup";
    if (previous !== this._state) {
      this.onEffect({ type: "group-state", group: this.name, from: previous ?? "init", to: this._state });
    }
    for (const m of running) {
      if (this._state === "backup" && m.state === "master") m.demoteForGroup(`sync group ${this.name}`);
      else if (this._state === "fault" && m.state !== "fault") m.forceFault(`sync group ${this.name}`);
    }
    for (const m of this.members) if (!m.started) m.start();
  }

  /** Releases the members (a reload that rebuilds or removes the group). */
  detach(): void {
    for (const m of this.members) if (m.group === this) m.group = undefined;
  }

  private setState(to: VrrpState): void {
    const from = this._state;
    this._state = to;
    this.onEffect({ type: "group-state", group: this.name, from, to });
  }

  /** vrrp_sync_can_goto_master(). */
  canGotoMaster(member: VrrpInstanceEngine): boolean {
    if (this._state === "master") return true;
    return this.members.every((m) => m === member || m.wantState === "master");
  }

  afterTransition(member: VrrpInstanceEngine, from: VrrpState, to: VrrpState): void {
    // keepalived VRRP_TSM: B→M, M→M, F→M: sync to MASTER; M→B: sync to BACKUP
    if (to === "master" && (from === "backup" || from === "master" || from === "fault"))
      this.syncMaster(member);
    else if (from === "master" && to === "backup") this.syncBackup(member);
  }

  /** vrrp_sync_master(). */
  private syncMaster(member: VrrpInstanceEngine): void {
    if (this._state === "master") return;
    if (!this.canGotoMaster(member)) return;
    for (const m of this.members) {
      if (m !== member && m.state !== "master" && m.state !== "stop")
        m.forceMaster(`sync group ${this.name}`);
    }
    this.setState("master");
  }

  /** vrrp_sync_backup(). */
  private syncBackup(member: VrrpInstanceEngine): void {
    if (this._state === "backup") return;
    for (const m of this.members) {
      if (m !== member && m.state !== "backup" && m.state !== "stop")
        m.forceBackup(`sync group ${this.name}`);
    }
    this.setState("backup");
  }

  /** vrrp_sync_fault(). */
  private syncFault(member: VrrpInstanceEngine): void {
    if (this._state === "fault") return;
    for (const m of this.members) {
      if (m !== member && m.state !== "fault" && m.state !== "stop") m.forceFault(`sync group ${this.name}`);
    }
    this.setState("fault");
  }

  memberDown(member: VrrpInstanceEngine): void {
    // num_member_fault 0 → 1
    if (this.members.filter((m) => m.ownFaults > 0).length === 1) this.syncFault(member);
  }

  otherMemberFaulty(member: VrrpInstanceEngine): boolean {
    return this.members.some((m) => m !== member && (m.ownFaults > 0 || m.initPending > 0));
  }

  memberUp(member: VrrpInstanceEngine): void {
    if (member.state === "master") this.syncMaster(member);
    else this.syncBackup(member);
  }

  /** Shutdown: STOP for the group after its members (notify_shutdown()). */
  stop(): void {
    for (const m of this.members) m.stop();
    if (this._state !== "stop") this.setState("stop");
  }
}

// Where a call's changes go: loading the model through the right cursor, then either
// staging the edits into the caller's LuCI session or committing them and making them
// take effect (service reloads, live peer sync). The only code that writes UCI.

import * as uci from "uci";
import { T } from "./common/text";
import type { Reply } from "./args";
import { fail, Warning } from "./errors";
import { reload, scheduleWatchdog, syncInterface } from "./live";
import { ConfigName, Model } from "./model";
import { interfaceOfPeerType, wgInterface } from "./router";
import { CONFDIR, RUNDIR, acquireLock, fileExists, readFile, releaseLock } from "./system";

/** A cursor that sees (and saves into) the session's staged changes, or the plain one. */
function openCursor(session: string | undefined): uci.Cursor {
  return session !== undefined ? uci.cursor(CONFDIR, `${RUNDIR}/rpcd/uci-${session}`) : uci.cursor(CONFDIR);
}

/** libuci cannot set into a config file that does not exist; wgmgr's own may be missing. */
function ensureConfigFile(name: ConfigName): void {
  const path = `${CONFDIR ?? "/etc/config"}/${name}`;
  if (fileExists(path)) return;
  const [f] = io.open(path, "w");
  f?.close();
}

/**
 * True when the session has staged changes to the interface's own settings that are not
 * applied yet: its section in network and wgmgr, and the firewall sections wgmgr owns for it.
 */
export function stagedFor(session: string, iface: string): boolean {
  const marks = [`network.${iface}`, `wgmgr.${iface}`, `firewall.wgmgr_${iface}_`];
  for (const config of ["network", "wgmgr", "firewall"]) {
    // A delta line is [-+@^|~]config.section[.option][=value] (libuci's delta format).
    for (const [line] of string.gmatch(readFile(`${RUNDIR}/rpcd/uci-${session}/${config}`) ?? "", "[^\n]+")) {
      const body = string.gsub(line, "^[-+@^|~]", "")[0];
      for (const mark of marks) {
        const next = string.sub(body, mark.length + 1, mark.length + 1);
        if (string.sub(body, 1, mark.length) === mark && (string.sub(mark, -1) === "_" || next === "." || next === "=")) return true;
      }
    }
  }
  return false;
}

export function loadModel(session: string | undefined): { cursor: uci.Cursor; model: Model } {
  const cursor = openCursor(session);
  return { cursor, model: Model.load(cursor) };
}

function writeEdits(cursor: uci.Cursor, m: Model): void {
  for (const e of m.edits) {
    const [ok, err] =
      e.kind === "create"
        ? cursor.set(e.config, e.section, e.type)
        : e.kind === "set"
          ? cursor.set(e.config, e.section, e.option, e.value)
          : e.kind === "unset"
            ? cursor.delete(e.config, e.section, e.option)
            : cursor.delete(e.config, e.section);
    if (!ok) fail("UCI_ERROR", T("Could not change {section}: {detail}. Nothing was saved.", { section: `${e.config}.${e.section}`, detail: err ?? "unknown error" }));
  }
}

/** Commits (shell) or stages (LuCI session) the model's edits, then makes them take effect. */
function persist(cursor: uci.Cursor, m: Model, session: string | undefined, reply: Reply, warnings: Warning[]): void {
  reply.changes = m.describeEdits();
  if (m.edits.length === 0) return;
  if (m.touched("wgmgr")) ensureConfigFile("wgmgr");
  writeEdits(cursor, m);
  const configs: ConfigName[] = ["network", "firewall", "wgmgr"];
  for (const c of configs) {
    if (!m.touched(c)) continue;
    const [ok, err] = session !== undefined ? cursor.save(c) : cursor.commit(c);
    if (!ok) fail("UCI_ERROR", session !== undefined
          ? T("Could not stage {config}: {detail}.", { config: c, detail: err ?? "unknown error" })
          : T("Could not commit {config}: {detail}.", { config: c, detail: err ?? "unknown error" }));
  }
  if (session !== undefined) {
    reply.staged = true;
    return;
  }
  reply.staged = false;
  // netifd restarts an interface whose own section changed; it ignores peer-only changes
  // (platform.md §9), which are therefore synced into the running interface directly.
  let networkChanged = false;
  const peerIfaces: Record<string, boolean> = {};
  for (const e of m.edits) {
    if (e.config !== "network") continue;
    const iface = interfaceOfPeerType(e.type);
    if (iface !== undefined) peerIfaces[iface] = true;
    else networkChanged = true;
  }
  if (networkChanged) reload("network", warnings);
  if (m.touched("network")) scheduleWatchdog(m, warnings);
  if (m.touched("firewall")) reload("firewall", warnings);
  const interfaceEdited = (iface: string): boolean => m.edits.some((e) => e.config === "network" && e.section === iface);
  for (const [iface] of pairs(peerIfaces)) {
    if (!interfaceEdited(iface) && wgInterface(m, iface) !== undefined) syncInterface(m, iface, warnings, false);
  }
}

/** Runs a mutation under the lock, on a model loaded once, and persists its edits. */
export function mutate(session: string | undefined, body: (m: Model, warnings: Warning[]) => Reply): Reply {
  if (!acquireLock()) fail("BUSY", T("Another change to WireGuard is in progress; try again in a moment."));
  const [ok, result] = pcall(() => {
    const { cursor, model } = loadModel(session);
    const warnings: Warning[] = [];
    const reply = body(model, warnings);
    persist(cursor, model, session, reply, warnings);
    reply.warnings = warnings;
    return reply;
  });
  releaseLock();
  if (!ok) throw result;
  return result as Reply;
}


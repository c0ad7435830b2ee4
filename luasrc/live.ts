// The running system: `wg show all dump`, making a running interface match UCI
// (wg syncconf keeps every unchanged peer's session), service reloads, WAN address.

import { formatCidr, networkOf, parseAddress, parseCidr } from "./common/ip";
import { T } from "./common/text";
import { DevicePeer, formatEndpoint, renderDeviceConfig } from "./common/wgconf";
import * as json from "./json";
import { Model, Section, flag, list, num, opt } from "./model";
import { isPeerEnabled } from "./plan";
import { netmaskToPrefix, peerAllowedIps, peersOf, wgInterface, wgInterfaces } from "./router";
import { CRONTABS, INITDIR, pause, readFile, run, runWithInput, shellQuote, writeFile } from "./system";
import { warning, Warning } from "./errors";

export interface LivePeer {
  publicKey: string;
  endpoint?: string;
  allowedIps: string[];
  latestHandshake: number;
  rxBytes: number;
  txBytes: number;
  keepalive?: number;
}

export interface LiveInterface {
  name: string;
  publicKey: string;
  listenPort: number;
  peers: LivePeer[];
}

/** Parses `wg show all dump` (tab separated; one interface line, then its peers). */
export function parseDump(text: string): Record<string, LiveInterface> {
  const out: Record<string, LiveInterface> = {};
  for (const [line] of string.gmatch(text, "[^\n]+")) {
    const f: string[] = [];
    for (const [field] of string.gmatch(line, "[^\t]+")) f.push(field);
    if (f.length === 5) {
      out[f[0]] = { name: f[0], publicKey: f[2], listenPort: tonumber(f[3]) ?? 0, peers: [] };
    } else if (f.length === 9 && out[f[0]] !== undefined) {
      out[f[0]].peers.push({
        publicKey: f[1],
        endpoint: f[3] === "(none)" ? undefined : f[3],
        allowedIps: f[4] === "(none)" ? [] : f[4].split(","),
        latestHandshake: tonumber(f[5]) ?? 0,
        rxBytes: tonumber(f[6]) ?? 0,
        txBytes: tonumber(f[7]) ?? 0,
        keepalive: f[8] === "off" ? undefined : tonumber(f[8]),
      });
    }
  }
  return out;
}

export function readDump(): { interfaces: Record<string, LiveInterface>; available: boolean } {
  const r = run("wg show all dump");
  return { interfaces: r.ok ? parseDump(r.output) : {}, available: r.status !== 127 };
}

/** True when the running peers (keys and allowed IPs) are the configured, enabled ones. */
export function inSync(m: Model, iface: string, live: LiveInterface): boolean {
  const want: Record<string, string> = {};
  let wanted = 0;
  for (const p of peersOf(m, iface)) {
    const key = opt(p, "public_key");
    if (key === undefined || !isPeerEnabled(p)) continue;
    want[key] = peerAllowedIps(p).map((c) => formatCidr(networkOf(c))).sort().join(",");
    wanted++;
  }
  if (live.peers.length !== wanted) return false;
  for (const lp of live.peers) {
    const running = lp.allowedIps.map((a) => {
      const c = parseCidr(a, true);
      return c === undefined ? a : formatCidr(networkOf(c));
    });
    if (want[lp.publicKey] !== running.sort().join(",")) return false;
  }
  return true;
}

/** The wg(8) configuration netifd's handler would build from UCI for this interface. */
export function deviceConfigText(m: Model, iface: Section): string {
  const peers: DevicePeer[] = [];
  for (const p of peersOf(m, iface.name)) {
    const key = opt(p, "public_key");
    if (!isPeerEnabled(p) || key === undefined) continue;
    const host = opt(p, "endpoint_host");
    peers.push({
      publicKey: key,
      presharedKey: opt(p, "preshared_key"),
      allowedIps: list(p, "allowed_ips"),
      endpoint: host !== undefined ? formatEndpoint(host, num(p, "endpoint_port") ?? 51820) : undefined,
      keepalive: num(p, "persistent_keepalive"),
    });
  }
  return renderDeviceConfig({ privateKey: opt(iface, "private_key") ?? "", listenPort: num(iface, "listen_port"), peers });
}

/** Routes netifd installs for peers with route_allowed_ips, plus wgmgr's persistent routes. */
function wantedRoutes(m: Model, iface: string): Record<string, boolean> {
  const want: Record<string, boolean> = {};
  for (const p of peersOf(m, iface)) {
    if (!isPeerEnabled(p) || !flag(p, "route_allowed_ips")) continue;
    for (const a of list(p, "allowed_ips")) {
      const c = parseCidr(a, true);
      if (c !== undefined) want[formatCidr(networkOf(c))] = true;
    }
  }
  return want;
}

/** Every `config route`/`route6` section bound to the interface, wgmgr's or the user's. */
function routeSections(m: Model, iface: string): Section[] {
  return m.sections("network").filter((s) => (s.type === "route" || s.type === "route6") && opt(s, "interface") === iface);
}

/** A route section's target as a normalised prefix (target with prefix or with netmask). */
function routeTarget(r: Section): string | undefined {
  const target = opt(r, "target");
  if (target === undefined) return undefined;
  const mask = opt(r, "netmask");
  const c = parseCidr(mask !== undefined && string.find(target, "/", 1, true)[0] === undefined ? `${target}/${netmaskToPrefix(mask)}` : target, true);
  return c === undefined ? undefined : formatCidr(networkOf(c));
}

function routeKey(first: string, family: 4 | 6): string | undefined {
  if (first === "default") return family === 4 ? "0.0.0.0/0" : "::/0";
  const c = parseCidr(first, true);
  return c === undefined ? undefined : formatCidr(networkOf(c));
}

/** How long a change waits for an interface that netifd is still bringing up. */
const PENDING_WAIT_SECONDS = 10;

type RunState = "up" | "pending" | "down";

/**
 * netifd's view of an interface: "up" once its handler has finished (its peers are then
 * final), "pending" while it is being brought up, "down" otherwise; undefined without
 * netifd (no ubus), where only `wg` can tell.
 */
function netifdState(name: string): RunState | undefined {
  const r = run(`ubus call network.interface.${name} status`);
  if (r.status === 4) return "down"; // UBUS_STATUS_NOT_FOUND: netifd has no such interface
  if (!r.ok) return undefined;
  const [st] = json.decode(r.output);
  const s = st as { up?: boolean; pending?: boolean } | undefined;
  return s?.up === true ? "up" : s?.pending === true ? "pending" : "down";
}

/**
 * Whether the interface runs, waiting while netifd brings it up: its handler reads the
 * configuration when it starts, so a peer committed meanwhile (a script calling setup and
 * add_peer with no pause) would be missing from the interface once it is up.
 */
function runState(name: string): RunState {
  let state = netifdState(name);
  const deadline = os.time() + PENDING_WAIT_SECONDS;
  while (state === "pending" && os.time() <= deadline) {
    pause(0.2);
    state = netifdState(name);
  }
  if (state !== undefined) return state;
  return run(`wg show ${shellQuote(name)} public-key`).ok ? "up" : "down";
}

/**
 * Makes the running interface match the committed UCI without restarting it: peers
 * through `wg syncconf` (peers whose settings did not change keep their sessions),
 * then the per-peer routes through one `ip -batch`. An interface that is not running
 * is left alone (netifd reads the configuration when it starts it), or with
 * `startIfDown` brought up by netifd; one that netifd is still bringing up is waited for.
 */
export function syncInterface(m: Model, ifaceName: string, warnings: Warning[], startIfDown: boolean): { running: boolean; peers: number } {
  const iface = wgInterface(m, ifaceName);
  if (iface === undefined) return { running: false, peers: 0 };
  const q = shellQuote(ifaceName);
  const state = runState(ifaceName);
  if (state !== "up") {
    if (state === "pending") warnings.push(warning("PENDING", T("{interface} is still being started by netifd; run sync once it is up.", { interface: ifaceName })));
    else if (!startIfDown) warnings.push(warning("NOT_RUNNING", T("{interface} is not running; the change applies when it starts.", { interface: ifaceName })));
    else {
      const up = run(`ubus call network.interface.${ifaceName} up`);
      if (!up.ok) warnings.push(warning("START_FAILED", T("{interface} is not running and netifd could not be asked to start it (ubus unavailable).", { interface: ifaceName })));
    }
    return { running: false, peers: 0 };
  }
  const sync = runWithInput(`wg syncconf ${q} /dev/stdin`, deviceConfigText(m, iface));
  if (sync.status === 127) warnings.push(warning("WG_MISSING", T("The wg command is missing: install wireguard-tools.")));
  else if (!sync.ok) warnings.push(warning("SYNC_FAILED", T("wg syncconf failed on {interface}: {detail}", { interface: ifaceName, detail: sync.output })));

  const want = wantedRoutes(m, ifaceName);
  // Routes from `config route` sections (the user's own too) are netifd's, also proto static.
  const configured: Record<string, boolean> = {};
  for (const r of routeSections(m, ifaceName)) {
    const key = routeTarget(r);
    if (key !== undefined) configured[key] = true;
  }
  const current = run(`ip -4 route show dev ${q} proto static; ip -6 route show dev ${q} proto static`);
  const batch: string[] = [];
  for (const [line] of string.gmatch(current.output, "[^\n]+")) {
    const [first] = string.match(line, "^(%S+)");
    const family = string.find(line, ":", 1, true)[0] !== undefined ? 6 : 4;
    const key = first !== undefined ? routeKey(first, family) : undefined;
    if (key !== undefined && !want[key] && !configured[key]) batch.push(`route del ${key} dev ${ifaceName} proto static`);
  }
  for (const [key] of pairs(want)) batch.push(`route replace ${key} dev ${ifaceName} proto static`);
  if (batch.length > 0) {
    const r = runWithInput("ip -batch -", batch.join("\n") + "\n");
    if (!r.ok) warnings.push(warning("ROUTES_FAILED", T("Some routes of {interface} could not be updated: {detail}", { interface: ifaceName, detail: r.output })));
  }
  return { running: true, peers: peersOf(m, ifaceName).filter((p) => isPeerEnabled(p)).length };
}

// ---- the DDNS watchdog -------------------------------------------------------------------
// wg resolves an endpoint name once, when the interface comes up. OpenWrt's
// wireguard-tools ships /usr/bin/wireguard_watchdog, which re-resolves the name of every
// peer (with an endpoint name and a keepalive) that has not shaken hands for 150 s; it is
// meant to run from cron every minute. wgmgr keeps that one line in root's crontab while
// some peer dials a name, and removes it when none does.

const WATCHDOG_LINE = "* * * * * /usr/bin/wireguard_watchdog # wgmgr: follows relays whose endpoint is a name";
const WATCHDOG_MARK = "/usr/bin/wireguard_watchdog # wgmgr";

/** True when some enabled peer is dialled by name, with the keepalive the watchdog needs. */
export function watchdogWanted(m: Model): boolean {
  for (const iface of wgInterfaces(m)) {
    if (opt(iface, "disabled") === "1") continue;
    for (const p of peersOf(m, iface.name)) {
      const host = opt(p, "endpoint_host");
      if (isPeerEnabled(p) && host !== undefined && parseAddress(host) === undefined && (num(p, "persistent_keepalive") ?? 0) > 0) return true;
    }
  }
  return false;
}

/** Adds or removes the watchdog's crontab line so that it runs exactly when wanted. */
export function scheduleWatchdog(m: Model, warnings: Warning[]): void {
  const path = `${CRONTABS}/root`;
  const text = readFile(path) ?? "";
  const has = string.find(text, WATCHDOG_MARK, 1, true)[0] !== undefined;
  const want = watchdogWanted(m);
  if (has === want) return;
  const kept: string[] = [];
  for (const [line] of string.gmatch(text, "[^\n]+")) if (string.find(line, WATCHDOG_MARK, 1, true)[0] === undefined) kept.push(line);
  if (want) kept.push(WATCHDOG_LINE);
  os.execute(`mkdir -p ${shellQuote(CRONTABS)}`);
  if (!writeFile(path, kept.length > 0 ? kept.join("\n") + "\n" : "")) {
    warnings.push(warning("CRONTAB_FAILED", T("Could not write {path}: relays given by name are not followed when their address changes.", { path })));
    return;
  }
  // OpenWrt's cron is not enabled by default; it starts only with a crontab.
  const cron = shellQuote(`${INITDIR}/cron`);
  if (!run(`${cron} enable; ${cron} restart`).ok) warnings.push(warning("CRON_FAILED", T("Could not restart cron: the endpoint watchdog runs after the next reboot.")));
}

/** Reloads a service after a commit; a missing service is a warning, not a failure. */
export function reload(what: "network" | "firewall", warnings: Warning[]): void {
  const cmd = what === "network" ? "ubus call network reload" : `${shellQuote(INITDIR + "/firewall")} reload`;
  const r = run(cmd, true);
  if (!r.ok) warnings.push(
      warning(
        "RELOAD_FAILED",
        what === "network"
          ? T("Could not reload the network ({command}): the change is saved and applies at the next restart.", { command: cmd })
          : T("Could not reload the firewall ({command}): the change is saved and applies at the next restart.", { command: cmd }),
      ),
    );
}

/** The addresses a name resolves to (busybox nslookup's "Name:" answer), or [] when it does not. */
export function resolveHost(name: string): string[] {
  const r = run(`nslookup ${shellQuote(name)}`);
  const out: string[] = [];
  let answer = false;
  for (const [line] of string.gmatch(r.output, "[^\n]+")) {
    if (string.find(line, "^Name:")[0] !== undefined) answer = true;
    // "Address: 192.0.2.1" (busybox 1.30+) or "Address 1: 192.0.2.1 name" (older)
    const [addr] = string.match(line, "^Address[%s%d]*:%s*([%x:.]+)");
    if (answer && addr !== undefined && parseAddress(addr) !== undefined) out.push(addr);
  }
  return out;
}

/** Whether the WAN has an IPv6 address (netifd's wan6). */
export function wanHasIpv6(): boolean {
  const r = run("ubus call network.interface.wan6 status");
  return r.ok && string.find(r.output, '"ipv6%-address"%s*:%s*%[%s*{')[0] !== undefined;
}

/** The device the router's own IPv4 default route leaves through, if it has one. */
export function defaultRouteDevice(): string | undefined {
  const r = run("ip -4 route show default");
  return r.ok ? string.match(r.output, "dev (%S+)")[0] : undefined;
}

/** The WAN's IPv4 address as netifd reports it, for clients' Endpoint. */
export function wanAddress(): string | undefined {
  const r = run("ubus call network.interface.wan status");
  if (!r.ok) return undefined;
  const [status] = json.decode(r.output);
  const addrs = (status as { ["ipv4-address"]?: { address: string }[] } | undefined)?.["ipv4-address"];
  return addrs !== undefined && addrs[0] !== undefined ? addrs[0].address : undefined;
}


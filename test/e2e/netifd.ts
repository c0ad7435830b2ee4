// A test stand-in for OpenWrt's netifd WireGuard handler: reads /etc/config/network as
// text, plans what the handler does for one `proto wireguard` interface (the classic
// `wg setconf` wireguard.sh of 23.05/24.10, shared/docs/anchors.md §b), and applies the
// plan inside a network namespace with wireguard-go instead of the kernel module.
//
// Mapping (handler → here):
//   ip link add <if> type wireguard          → wireguard-go -f <if> (in the namespace)
//   mtu                                       → ip link set dev <if> mtu <mtu>
//   private_key, listen_port, fwmark          → [Interface] PrivateKey=, ListenPort=, FwMark=
//   wireguard_<if> sections, in file order    → one [Peer] each; disabled=1 and peers without
//     public_key are skipped; preshared_key → PresharedKey=, allowed_ips → one AllowedIPs=
//     line per entry, endpoint_host[:endpoint_port, default 51820] → Endpoint= (IPv6 in
//     brackets), persistent_keepalive → PersistentKeepalive=
//   the whole file                            → wg setconf <if> (one step)
//   addresses (list; bare address = /32, /128)→ ip addr add (proto_add_ipv4/6_address)
//   route_allowed_ips=1                       → one on-link route per allowed IP, no gateway,
//     proto static (netifd's RTPROT_STATIC), host bits cleared as netifd does
//   config route / route6 with interface=<if>→ ip route replace target[/netmask] via gateway
//     metric mtu table onlink, proto static
//   interface metric / ip4table / ip6table    → default metric and table of those routes
//   defaultroute=0                            → /0 routes of peers dropped
//   nohostroute≠1                             → host route to each peer endpoint copying the
//     current route's next hop (proto_add_host_dependency; tunlink not modelled)
//   disabled=1 / auto=0                       → not brought up
// Not modelled: ip6prefix (prefix delegation), DNS, private_key "generate", the firewall.
import { ChildProcess } from "node:child_process";
import { createServer, isIPv4, isIPv6, Server } from "node:net";
import { cmd, ipn, nsExec, sleep, startWireguardGo, stopAndWait, wgConf } from "./sys";
import { parseUci as parseUciText } from "../lib/uci-text.mjs";

// ---- UCI text ---------------------------------------------------------------

export type UciValue = string | string[];

export interface UciSection {
  type: string;
  name: string; // "@type[i]" for anonymous sections
  anonymous: boolean;
  options: Record<string, UciValue>;
}

/** Parses a UCI config file (the format libuci writes on commit); see test/lib/uci-text.mjs. */
export const parseUci = (text: string): UciSection[] => parseUciText(text);

// ---- shell semantics of the handler (config_get / config_get_bool / for x in $v) ----

/** `config_get v sec opt`: lists come back joined with spaces. */
function get(s: UciSection, o: string): string {
  const v = s.options[o];
  return Array.isArray(v) ? v.join(" ") : v ?? "";
}

/** `for x in $v`: word splitting. */
function words(s: UciSection, o: string): string[] {
  return get(s, o).split(/\s+/).filter(Boolean);
}

/** `config_get_bool`. */
function bool(s: UciSection, o: string, dflt: boolean): boolean {
  const v = get(s, o);
  if (/^(1|on|true|yes|enabled)$/.test(v)) return true;
  if (/^(0|off|false|no|disabled)$/.test(v)) return false;
  return dflt;
}

// ---- addresses ----------------------------------------------------------------

function ipToBig(ip: string, family: 4 | 6): bigint {
  if (family === 4) return ip.split(".").reduce((a, o) => (a << 8n) | BigInt(Number(o)), 0n);
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = ipToBig(v4[1], 4);
    s = s.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes("::") ? s.split("::") : [s, undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function bigToIp(n: bigint, family: 4 | 6): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((n >> s) & 0xffn)).join(".");
  const g: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) g.push(((n >> s) & 0xffffn).toString(16));
  // Compress the longest run of zero groups (RFC 5952), as `ip` prints.
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === "0") j++;
    if (j - i > bestLen && j - i > 1) (best = i), (bestLen = j - i);
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return g.join(":");
  return `${g.slice(0, best).join(":")}::${g.slice(best + bestLen).join(":")}`;
}

/** "addr/len" with host bits cleared (netifd's clear_if_addr). */
export function networkCidr(addr: string, prefix: number, family: 4 | 6): string {
  const bits = family === 4 ? 32n : 128n;
  const mask = ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
  return `${bigToIp(ipToBig(addr, family) & mask, family)}/${prefix}`;
}

function netmaskToPrefix(mask: string): number {
  return ipToBig(mask, 4).toString(2).replace(/0+$/, "").length;
}

/** The handler's `case` on an address or allowed IP: family and prefix (bare = /32, /128), or undefined. */
function classify(entry: string): { family: 4 | 6; addr: string; prefix: number } | undefined {
  const slash = entry.indexOf("/");
  const addr = slash >= 0 ? entry.slice(0, slash) : entry;
  if (entry.includes(":")) return { family: 6, addr, prefix: slash >= 0 ? Number(entry.slice(slash + 1)) : 128 };
  if (entry.includes(".")) return { family: 4, addr, prefix: slash >= 0 ? Number(entry.slice(slash + 1)) : 32 };
  return undefined;
}

// ---- the plan -----------------------------------------------------------------

export interface RoutePlan {
  family: 4 | 6;
  target: string; // network/prefix
  via?: string;
  metric?: number;
  table?: string;
  mtu?: number;
  onlink?: boolean;
  from: string; // which section asked for it
  kind: "peer" | "static"; // route_allowed_ips of a peer, or a config route/route6 section
}

export interface NetifdPlan {
  device: string;
  autostart: boolean;
  mtu?: number;
  /** The file the handler feeds to `wg setconf`. */
  wgConfig: string;
  peers: { section: string; publicKey: string }[];
  skippedPeers: { section: string; reason: string }[];
  addresses: { family: 4 | 6; cidr: string }[];
  routes: RoutePlan[];
  /** nohostroute ≠ 1: each resolved peer endpoint gets a host route (proto_add_host_dependency). */
  hostRoutes: boolean;
  tunlink?: string;
}

function endpointOf(host: string, port: string): string {
  return `${host.includes(":") ? `[${host}]` : host}:${port || "51820"}`;
}

/** What netifd does for `config interface '<ifname>'` with `proto wireguard`, from the parsed network config. */
export function netifdPlan(network: UciSection[], ifname: string): NetifdPlan {
  const iface = network.find((s) => s.type === "interface" && s.name === ifname);
  if (!iface) throw new Error(`network has no interface section '${ifname}'`);
  if (get(iface, "proto") !== "wireguard") throw new Error(`interface '${ifname}' is proto '${get(iface, "proto")}', not wireguard`);

  const lines = ["[Interface]", `PrivateKey=${get(iface, "private_key")}`];
  if (get(iface, "listen_port")) lines.push(`ListenPort=${get(iface, "listen_port")}`);
  if (get(iface, "fwmark")) lines.push(`FwMark=${get(iface, "fwmark")}`);

  const metric = get(iface, "metric") ? Number(get(iface, "metric")) : undefined;
  const tables = { 4: get(iface, "ip4table") || undefined, 6: get(iface, "ip6table") || undefined };
  const noDefault = !bool(iface, "defaultroute", true);
  const peers: NetifdPlan["peers"] = [];
  const skippedPeers: NetifdPlan["skippedPeers"] = [];
  const routes: RoutePlan[] = [];

  for (const p of network.filter((s) => s.type === `wireguard_${ifname}`)) {
    if (bool(p, "disabled", false)) {
      skippedPeers.push({ section: p.name, reason: "disabled" });
      continue;
    }
    const key = get(p, "public_key");
    if (!key) {
      skippedPeers.push({ section: p.name, reason: "no public_key" });
      continue;
    }
    peers.push({ section: p.name, publicKey: key });
    lines.push("[Peer]", `PublicKey=${key}`);
    if (get(p, "preshared_key")) lines.push(`PresharedKey=${get(p, "preshared_key")}`);
    for (const ip of words(p, "allowed_ips")) lines.push(`AllowedIPs=${ip}`);
    if (get(p, "endpoint_host")) lines.push(`Endpoint=${endpointOf(get(p, "endpoint_host"), get(p, "endpoint_port"))}`);
    if (get(p, "persistent_keepalive")) lines.push(`PersistentKeepalive=${get(p, "persistent_keepalive")}`);
    if (bool(p, "route_allowed_ips", false)) {
      for (const ip of words(p, "allowed_ips")) {
        const c = classify(ip);
        if (!c || (noDefault && c.prefix === 0)) continue;
        routes.push({ family: c.family, target: networkCidr(c.addr, c.prefix, c.family), metric, table: tables[c.family], from: p.name, kind: "peer" });
      }
    }
  }

  const addresses: NetifdPlan["addresses"] = [];
  for (const a of words(iface, "addresses")) {
    const c = classify(a);
    if (c) addresses.push({ family: c.family, cidr: `${c.addr}/${c.prefix}` });
  }

  // Static routes bound to this interface (netifd's proto-independent `config route`).
  for (const r of network.filter((s) => (s.type === "route" || s.type === "route6") && get(s, "interface") === ifname)) {
    if (bool(r, "disabled", false)) continue;
    const family = r.type === "route6" ? 6 : 4;
    const target = get(r, "target");
    if (!target) throw new Error(`route section ${r.name} has no target`);
    const slash = target.indexOf("/");
    const addr = slash >= 0 ? target.slice(0, slash) : target;
    const prefix =
      slash >= 0 ? Number(target.slice(slash + 1)) : family === 4 && get(r, "netmask") ? netmaskToPrefix(get(r, "netmask")) : family === 4 ? 32 : 128;
    routes.push({
      family,
      target: networkCidr(addr, prefix, family),
      via: get(r, "gateway") || undefined,
      metric: get(r, "metric") ? Number(get(r, "metric")) : metric,
      table: get(r, "table") || tables[family],
      mtu: get(r, "mtu") ? Number(get(r, "mtu")) : undefined,
      onlink: bool(r, "onlink", false) || undefined,
      from: r.name,
      kind: "static",
    });
  }

  return {
    device: ifname,
    autostart: !bool(iface, "disabled", false) && bool(iface, "auto", true),
    mtu: get(iface, "mtu") ? Number(get(iface, "mtu")) : undefined,
    wgConfig: lines.join("\n") + "\n",
    peers,
    skippedPeers,
    addresses,
    routes,
    hostRoutes: get(iface, "nohostroute") !== "1",
    tunlink: get(iface, "tunlink") || undefined,
  };
}

// ---- applying it ----------------------------------------------------------------

/** `ip route replace …` arguments for a planned route on `dev`. */
export function routeArgs(r: RoutePlan, dev: string): string[] {
  const a = [`-${r.family}`, "route", "replace", r.target];
  if (r.via) a.push("via", r.via);
  a.push("dev", dev, "proto", "static");
  if (r.metric !== undefined) a.push("metric", String(r.metric));
  if (r.table) a.push("table", r.table);
  if (r.mtu !== undefined) a.push("mtu", String(r.mtu));
  if (r.onlink) a.push("onlink");
  return a;
}

export interface NetifdInterface {
  plan: NetifdPlan;
  process: ChildProcess;
}

/**
 * Brings up `ifname` inside namespace `ns` from the network config text, in the
 * handler's order: device, mtu, one `wg setconf`, link up, addresses, endpoint host
 * routes, routes. Throws (with the command's output) where netifd would fail the setup.
 */
export async function applyNetifd(ns: string, networkText: string, ifname: string): Promise<NetifdInterface> {
  const plan = netifdPlan(parseUci(networkText), ifname);
  if (!plan.autostart) throw new Error(`netifd would not bring ${ifname} up (disabled or auto 0)`);
  for (const a of plan.addresses) {
    if (!(a.family === 4 ? isIPv4 : isIPv6)(a.cidr.split("/")[0])) throw new Error(`bad address '${a.cidr}' in ${ifname}`);
  }
  const proc = await startWireguardGo(ns, ifname);
  if (plan.mtu !== undefined) ipn(ns, `link set dev ${ifname} mtu ${plan.mtu}`);
  wgConf(ns, "setconf", ifname, plan.wgConfig);
  ipn(ns, `link set dev ${ifname} up`);
  for (const a of plan.addresses) ipn(ns, `-${a.family} address add ${a.cidr} dev ${ifname}`);
  // wireguard.sh adds the endpoints' host dependencies before proto_send_update installs
  // the routes, so each copies the route to the endpoint as it was before the tunnel's.
  if (plan.hostRoutes) addEndpointHostRoutes(ns, ifname);
  for (const r of plan.routes) cmd(["ip", "-n", ns, ...routeArgs(r, ifname)]);
  return { plan, process: proc };
}

/**
 * What `ubus call network reload` does when only `config route` sections of a running
 * interface changed: (re)install them. Returns the routes installed.
 */
export function applyStaticRoutes(ns: string, networkText: string, ifname: string): RoutePlan[] {
  const routes = netifdPlan(parseUci(networkText), ifname).routes.filter((r) => r.kind === "static");
  for (const r of routes) cmd(["ip", "-n", ns, ...routeArgs(r, ifname)]);
  return routes;
}

/**
 * proto_add_host_dependency for each peer endpoint: a /32 or /128 copying the current
 * route's next hop. (tunlink, which restricts this to one logical interface's routes, is
 * not modelled: the namespace has one way out.)
 */
function addEndpointHostRoutes(ns: string, ifname: string): void {
  const out = nsExec(ns, ["wg", "show", ifname, "endpoints"]).stdout;
  for (const line of out.split("\n")) {
    const m = /\t\[?([0-9a-fA-F.:]+)\]?:\d+$/.exec(line);
    if (!m) continue;
    const family = m[1].includes(":") ? 6 : 4;
    const get = ipn(ns, `-${family} route get ${m[1]}`, { allowFail: true });
    if (!get.ok) continue;
    const via = /\bvia (\S+)/.exec(get.stdout)?.[1];
    const dev = /\bdev (\S+)/.exec(get.stdout)?.[1];
    if (!dev || dev === ifname) continue;
    ipn(ns, `-${family} route replace ${m[1]}/${family === 4 ? 32 : 128} ${via ? `via ${via} ` : ""}dev ${dev} proto static`);
  }
}

// ---- netifd itself, as the plugin meets it through `ubus` ------------------------------------
// test/e2e/bin/ubus forwards each `ubus call` the plugin makes to this object, which
// behaves as netifd does for WireGuard interfaces (platform.md §9):
//   network reload        reads /etc/config/network now; a new WireGuard interface, or
//                         one whose interface section changed, is (re)started in the
//                         background, from the configuration read now (as the handler's
//                         config_load reads it); peer-only changes are ignored; route
//                         sections of running interfaces are (re)installed or removed
//   network.interface.<if> status   {up, pending, ...}; pending while it comes up
//   network.interface.<if> up       starts it from the configuration as it is now
//   network.interface.wan status    the router's WAN address
// Bringing an interface up takes `setupMs` (wireguard.sh forks, generates its config and
// runs `wg setconf`), so a script that changes peers right after `setup` meets an
// interface that is still coming up, as on a real router.
type UbusAnswer = { code: number; stdout: string; stderr: string };

interface IfState {
  status: "pending" | "up";
  /** The interface section as configured when it was started (a change restarts it). */
  key: string;
  running?: NetifdInterface;
  /** Route sections installed on the running interface. */
  staticRoutes: RoutePlan[];
  done: Promise<void>;
}

const NOT_FOUND: UbusAnswer = { code: 4, stdout: "", stderr: "Command failed: Not found\n" };

export class Netifd {
  private readonly ifaces = new Map<string, IfState>();
  private server?: Server;
  /** Each call as "network reload", "network.interface.wg0 status", …, for assertions. */
  readonly calls: string[] = [];
  /** Errors of bring-ups that failed (netifd would log them). */
  readonly errors: string[] = [];

  constructor(
    private readonly ns: string,
    private readonly networkText: () => string,
    private readonly opts: { wanAddress: string; wanPrefix: number; setupMs: number },
  ) {}

  /** Listens on `socket` (the path test/e2e/bin/ubus finds in $WGMGR_E2E_NETIFD). */
  listen(socket: string): Promise<void> {
    // allowHalfOpen: the client ends its request before the answer is ready.
    this.server = createServer({ allowHalfOpen: true }, (c) => {
      let req = "";
      c.on("data", (d) => (req += d));
      c.on("error", () => undefined);
      c.on("end", () => {
        this.answer(JSON.parse(req) as string[]).then(
          (a) => c.end(JSON.stringify(a)),
          (e) => c.end(JSON.stringify({ code: 1, stdout: "", stderr: `netifd stand-in: ${e}\n` })),
        );
      });
    });
    return new Promise((res) => this.server!.listen(socket, res));
  }

  /** The interface as running now, if it is up. */
  running(name: string): NetifdInterface | undefined {
    const s = this.ifaces.get(name);
    return s?.status === "up" ? s.running : undefined;
  }

  /** Resolves once no interface is coming up any more. */
  async settled(): Promise<void> {
    await Promise.all([...this.ifaces.values()].map((s) => s.done));
  }

  async close(): Promise<void> {
    await new Promise<void>((res) => (this.server ? this.server.close(() => res()) : res()));
    await this.settled();
    for (const s of this.ifaces.values()) if (s.running) await stopAndWait(s.running.process);
    this.ifaces.clear();
  }

  private async answer(argv: string[]): Promise<UbusAnswer> {
    const [verb, path, method] = argv;
    this.calls.push(`${path} ${method}`);
    if (verb !== "call") return { code: 1, stdout: "", stderr: "Usage: ubus call <path> <method>\n" };
    const ok = (reply?: unknown): UbusAnswer => ({ code: 0, stdout: reply === undefined ? "" : JSON.stringify(reply) + "\n", stderr: "" });
    if (path === "network" && method === "reload") return this.reload(), ok();
    const iface = path.startsWith("network.interface.") ? path.slice("network.interface.".length) : undefined;
    if (iface === "wan" && method === "status") {
      return ok({ up: true, pending: false, proto: "static", "ipv4-address": [{ address: this.opts.wanAddress, mask: this.opts.wanPrefix }] });
    }
    const section = iface !== undefined ? this.interfaceSection(parseUci(this.networkText()), iface) : undefined;
    if (section === undefined) return NOT_FOUND;
    const s = this.ifaces.get(iface as string);
    if (method === "status") {
      return ok({ up: s?.status === "up", pending: s?.status === "pending", available: true, autostart: true, proto: "wireguard" });
    }
    if (method === "up") {
      if (s === undefined) this.start(iface as string, this.networkText(), section);
      return ok();
    }
    return NOT_FOUND;
  }

  private interfaceSection(network: UciSection[], name: string): UciSection | undefined {
    return network.find((x) => x.type === "interface" && x.name === name);
  }

  private reload(): void {
    const text = this.networkText();
    const network = parseUci(text);
    const wanted = network.filter((s) => s.type === "interface" && get(s, "proto") === "wireguard" && netifdPlanAutostart(s));
    for (const [name, s] of this.ifaces) {
      if (!wanted.some((w) => w.name === name)) this.restart(name, s, undefined);
    }
    for (const section of wanted) {
      const s = this.ifaces.get(section.name);
      if (s === undefined) this.start(section.name, text, section);
      else if (s.key !== JSON.stringify(section.options)) this.restart(section.name, s, { text, section });
      else if (s.status === "up") s.staticRoutes = this.reinstallStaticRoutes(section.name, s.staticRoutes, text);
    }
  }

  /**
   * Brings `name` up in the background from `text`, the configuration as read now (after
   * `after`: the previous instance's device is gone).
   */
  private start(name: string, text: string, section: UciSection, after: Promise<unknown> = Promise.resolve()): void {
    const s: IfState = { status: "pending", key: JSON.stringify(section.options), staticRoutes: [], done: Promise.resolve() };
    this.ifaces.set(name, s);
    s.done = (async () => {
      await after;
      await sleep(this.opts.setupMs);
      try {
        s.running = await applyNetifd(this.ns, text, name);
        s.staticRoutes = s.running.plan.routes.filter((r) => r.kind === "static");
        s.status = "up";
      } catch (e) {
        this.errors.push(`${name}: ${e}`);
        if (this.ifaces.get(name) === s) this.ifaces.delete(name);
      }
    })();
  }

  /** Stops `name` (its device goes, and its routes with it), then starts it again unless removed. */
  private restart(name: string, s: IfState, next: { text: string; section: UciSection } | undefined): void {
    this.ifaces.delete(name);
    const stopped = s.done.then(() => (s.running ? stopAndWait(s.running.process) : undefined));
    if (next !== undefined) this.start(name, next.text, next.section, stopped);
  }

  private reinstallStaticRoutes(name: string, installed: RoutePlan[], text: string): RoutePlan[] {
    const wanted = netifdPlan(parseUci(text), name).routes.filter((r) => r.kind === "static");
    for (const r of installed) {
      if (!wanted.some((w) => w.target === r.target && w.family === r.family)) {
        cmd(["ip", "-n", this.ns, `-${r.family}`, "route", "del", r.target, "dev", name, "proto", "static"], { allowFail: true });
      }
    }
    for (const r of wanted) cmd(["ip", "-n", this.ns, ...routeArgs(r, name)]);
    return wanted;
  }
}

/** Whether netifd starts the interface on its own (not disabled, auto not 0). */
function netifdPlanAutostart(s: UciSection): boolean {
  return !bool(s, "disabled", false) && bool(s, "auto", true);
}

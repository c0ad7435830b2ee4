// The ubus methods. Each one: read and check the arguments → load the model once →
// plan (plan.ts) → apply (apply.ts: stage into the LuCI session, or commit and make it
// live) → reply. Nothing is written before every check has passed.

import * as uci from "uci";
import { Cidr, formatAddress, formatCidr, networkOf, nonPublicRange, overlaps, parseAddress, parseCidr } from "./common/ip";
import {
  checkDnsServer,
  checkHost,
  checkInterfaceAddress,
  checkInterfaceName,
  checkIpAddress,
  checkKeepalive,
  checkKey,
  checkMetric,
  checkMtu,
  checkPeerName,
  checkPort,
  checkSubnet,
  splitList,
} from "./common/validate";
import { configFileName, formatEndpoint, renderClientConfig } from "./common/wgconf";
import { Args, bool, check, fail, int, requiredStr, str, strList } from "./errors";
import { lazyList } from "./json";
import { generateKeys, publicKeyOf } from "./keys";
import { Reply, loadModel, mutate, sessionOf } from "./apply";
import { LiveInterface, LivePeer, readDump, syncInterface, wanAddress } from "./live";
import { Model, Section, flag, list, num, opt } from "./model";
import {
  DEFAULT_PORT,
  PeerRequest,
  Tunnel,
  ZoneMode,
  clientAllowedIps,
  hostAddresses,
  splitAllowedIps,
  isPeerEnabled,
  ownedRoutes,
  planAddPeer,
  planAddRoute,
  planRemovePeer,
  planRemoveRoute,
  planSetup,
  planTeardown,
  planUpdatePeer,
  requireInterface,
  requirePeer,
} from "./plan";
import { interfaceAddresses, lanAddresses, lanSubnets, otherNetworks, peerAllowedIps, peersOf, wgInterface, wgInterfaces, zoneByName } from "./router";
import { CONFDIR, readFile } from "./system";

// ---- argument readers shared by several methods ------------------------------------

function ifaceArg(args: Args): string {
  const iface = str(args, "interface") ?? "wg0";
  check("interface", checkInterfaceName(iface));
  return iface;
}

function dnsArg(args: Args): string[] | undefined {
  const raw = strList(args, "dns");
  if (raw === undefined) return undefined;
  const dns = splitList(raw);
  for (const d of dns) check("dns", checkDnsServer(d));
  return dns;
}

function subnetList(args: Args, field: string): string[] | undefined {
  const raw = strList(args, field);
  if (raw === undefined) return undefined;
  const out: string[] = [];
  for (const s of splitList(raw)) {
    check(field, checkSubnet(s));
    out.push(formatCidr(parseCidr(s, true) as Cidr));
  }
  return out;
}

function tunnelArg(args: Args): Tunnel | undefined {
  const v = args.tunnel;
  if (v === "full" || v === "split") return v;
  const custom = subnetList(args, "tunnel");
  if (custom === undefined) return undefined;
  if (custom.length === 0) fail("NO_ALLOWED_IPS", 'Give "full", "split" or the networks the device should reach through the tunnel.', "tunnel");
  return custom;
}

function keepaliveArg(args: Args): number | undefined {
  const k = int(args, "keepalive");
  if (k !== undefined) check("keepalive", checkKeepalive(k));
  return k;
}

function peerRequest(args: Args, iface: string): PeerRequest {
  const name = str(args, "name");
  if (name !== undefined) check("name", checkPeerName(name));
  const address = str(args, "address");
  if (address !== undefined && address !== "") {
    const c = parseCidr(address, true);
    if (c === undefined) fail("INVALID_ADDRESS", `"${address}" is not an IP address (for example 192.168.100.2).`, "address");
  }
  const enabled = bool(args, "enabled");
  const disabled = bool(args, "disabled") ?? (enabled !== undefined ? !enabled : undefined);
  return {
    iface,
    name,
    address: address === "" ? undefined : address,
    tunnel: tunnelArg(args),
    subnets: subnetList(args, "subnets"),
    keepalive: keepaliveArg(args),
    dns: dnsArg(args),
    disabled,
  };
}

// ---- views of the model --------------------------------------------------------------

function peerView(m: Model, iface: Section, p: Section): Reply {
  const meta = m.section("wgmgr", p.name);
  const allowed = peerAllowedIps(p);
  const hosts = hostAddresses(p).map((c) => formatCidr(c));
  return {
    id: p.name,
    name: opt(p, "description") ?? p.name,
    public_key: opt(p, "public_key"),
    addresses: hosts,
    subnets: allowed.filter((c) => hosts.indexOf(formatCidr(c)) < 0).map((c) => formatCidr(c)),
    allowed_ips: list(p, "allowed_ips"),
    route_allowed_ips: flag(p, "route_allowed_ips"),
    tunnel: opt(meta, "tunnel") ?? "full",
    client_allowed_ips: clientAllowedIps(m, iface, p),
    keepalive: num(p, "persistent_keepalive") ?? 0,
    enabled: isPeerEnabled(p),
    preshared_key: opt(p, "preshared_key") !== undefined,
    private_key_kept: opt(p, "private_key") !== undefined,
    dns: list(meta, "dns"),
  };
}

/** The interface's public key: wgmgr's record, else derived from the private key. */
function interfacePublicKey(m: Model, iface: Section, live?: LiveInterface): string | undefined {
  if (live !== undefined) return live.publicKey;
  const cached = opt(m.section("wgmgr", iface.name), "public_key");
  if (cached !== undefined) return cached;
  const priv = opt(iface, "private_key");
  return priv !== undefined ? publicKeyOf(priv) : undefined;
}

/** The interface's peers as views, made while the reply is written (see json.lazyList). */
function lazyPeers(m: Model, iface: Section): Reply[] {
  const peers = peersOf(m, iface.name);
  return lazyList(peers.length, (i) => peerView(m, iface, peers[i]));
}

function interfaceView(m: Model, iface: Section): Reply {
  const meta = m.section("wgmgr", iface.name);
  return {
    name: iface.name,
    public_key: interfacePublicKey(m, iface),
    listen_port: num(iface, "listen_port"),
    addresses: list(iface, "addresses"),
    mtu: num(iface, "mtu"),
    zone: opt(meta, "zone"),
    endpoint_host: opt(meta, "endpoint_host"),
    dns: list(meta, "dns"),
    enabled: opt(iface, "disabled") !== "1",
    split_allowed_ips: splitAllowedIps(m, iface),
    peers: lazyPeers(m, iface),
    routes: ownedRoutes(m, iface.name).map((r) => ({
      id: r.name,
      target: opt(r, "target"),
      gateway: opt(r, "gateway"),
      metric: num(r, "metric"),
    })),
  };
}

function selectedInterfaces(m: Model, args: Args): Section[] {
  const only = str(args, "interface");
  if (only === undefined) return wgInterfaces(m);
  check("interface", checkInterfaceName(only));
  return [requireInterface(m, only)];
}

// ---- client configuration ------------------------------------------------------------

/**
 * The WAN address as an endpoint, with a warning when it cannot be reached from the
 * Internet (the most common reason a handshake never completes: double NAT or CGNAT).
 */
function publicWanAddress(port: number, warnings: string[]): string | undefined {
  const wan = wanAddress();
  const a = wan !== undefined ? parseAddress(wan) : undefined;
  const range = a !== undefined ? nonPublicRange(a) : undefined;
  if (range !== undefined) {
    warnings.push(
      `The router's WAN address ${wan} is in ${range}: devices on the Internet cannot reach it. ` +
        `Forward UDP port ${port} to this router on the device in front of it, or, behind carrier-grade NAT, connect through a relay with a public address; then set endpoint_host to the public name.`,
    );
  }
  return wan;
}

function clientConfig(m: Model, iface: Section, p: Section, privateKey: string | undefined, warnings: string[]): string {
  const meta = m.section("wgmgr", iface.name);
  const peerMeta = m.section("wgmgr", p.name);
  const port = num(iface, "listen_port") ?? DEFAULT_PORT;
  const host = opt(meta, "endpoint_host") ?? publicWanAddress(port, warnings);
  if (host === undefined) {
    warnings.push("The router's public address is unknown: set endpoint_host with setup (your DDNS name), then fetch the config again.");
  }
  const serverKey = interfacePublicKey(m, iface);
  if (serverKey === undefined) fail("NOT_CONFIGURED", `${iface.name} has no private key yet: run setup.`, "interface");
  const peerDns = list(peerMeta, "dns");
  return renderClientConfig({
    name: opt(p, "description") ?? p.name,
    privateKey,
    addresses: hostAddresses(p).map((c) => formatCidr(c)),
    dns: peerDns.length > 0 ? peerDns : list(meta, "dns"),
    mtu: num(iface, "mtu"),
    serverPublicKey: serverKey,
    presharedKey: opt(p, "preshared_key"),
    allowedIps: clientAllowedIps(m, iface, p),
    endpoint: host !== undefined ? formatEndpoint(host, port) : undefined,
    keepalive: num(p, "persistent_keepalive"),
  });
}

/** A note for split tunnels that carry the office LAN exactly (scenarios.md S5). */
function splitTunnelNote(m: Model, tunnel: Tunnel | undefined, warnings: string[]): void {
  if (tunnel !== "split") return;
  for (const lan of lanSubnets(m)) {
    warnings.push(
      `When this device is itself inside ${formatCidr(lan)} (at home or in the office), the tunnel route competes with the local one; ` +
        "advertising a wider prefix (custom tunnel, e.g. 192.168.0.0/16) lets the local route win on Linux, macOS, iOS and Android, not on Windows.",
    );
  }
}

// ---- the methods -----------------------------------------------------------------------

/** True when the running peers (keys and allowed IPs) are the configured, enabled ones. */
function inSync(m: Model, iface: string, live: LiveInterface): boolean {
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

/** A peer is online when its latest handshake is recent (WireGuard re-keys every 2 minutes). */
const ONLINE_SECONDS = 180;

/** One peer of `status`: its configuration (if any) merged with its live data (if running). */
function statusPeer(p: Section | undefined, lp: LivePeer | undefined, now: number): Reply {
  const handshake = lp?.latestHandshake ?? 0;
  return {
    id: p?.name,
    name: p !== undefined ? opt(p, "description") ?? p.name : undefined,
    public_key: lp?.publicKey ?? opt(p, "public_key"),
    endpoint: lp?.endpoint,
    allowed_ips: lp !== undefined ? lp.allowedIps : list(p, "allowed_ips"),
    latest_handshake: handshake,
    rx_bytes: lp?.rxBytes ?? 0,
    tx_bytes: lp?.txBytes ?? 0,
    keepalive: (lp !== undefined ? lp.keepalive : num(p, "persistent_keepalive")) ?? 0,
    online: handshake > 0 && now - handshake < ONLINE_SECONDS,
    enabled: p === undefined || isPeerEnabled(p),
  };
}

export function status(args: Args): Reply {
  sessionOf(args); // validated; status describes what runs, so it reads the committed config
  const { model: m } = loadModel(undefined);
  const only = str(args, "interface");
  if (only !== undefined) check("interface", checkInterfaceName(only));
  const dump = readDump();
  const now = os.time();
  const names: string[] = [];
  for (const s of wgInterfaces(m)) names.push(s.name);
  for (const [name] of pairs(dump.interfaces)) if (names.indexOf(name as string) < 0) names.push(name as string);
  const interfaces: Reply[] = [];
  for (const name of names) {
    if (only !== undefined && name !== only) continue;
    const s = wgInterface(m, name);
    const live = dump.interfaces[name];
    // Configured peers in their UCI order, with their live data; then peers running
    // without a section (added by hand with `wg set`).
    const running: Record<string, LivePeer> = {};
    for (const lp of live?.peers ?? []) running[lp.publicKey] = lp;
    const peers: Reply[] = [];
    if (s !== undefined) {
      for (const p of peersOf(m, name)) {
        const key = opt(p, "public_key") ?? "";
        peers.push(statusPeer(p, running[key], now));
        delete running[key];
      }
    }
    for (const lp of live?.peers ?? []) if (running[lp.publicKey] !== undefined) peers.push(statusPeer(undefined, lp, now));
    interfaces.push({
      name,
      up: live !== undefined,
      configured: s !== undefined,
      // Peer-only changes do not restart the interface (platform.md §9): false means `sync` is due.
      in_sync: live !== undefined && s !== undefined ? inSync(m, name, live) : undefined,
      public_key: s !== undefined ? interfacePublicKey(m, s, live) : live?.publicKey,
      listen_port: live?.listenPort ?? num(s, "listen_port"),
      addresses: list(s, "addresses"),
      peers,
    });
  }
  if (only !== undefined && interfaces.length === 0) fail("NOT_FOUND", `There is no WireGuard interface "${only}".`, "interface");
  return { interfaces, time: now, wg_available: dump.available };
}

export function get(args: Args): Reply {
  const { model: m } = loadModel(sessionOf(args));
  return {
    interfaces: selectedInterfaces(m, args).map((s) => interfaceView(m, s)),
    lan_subnets: lanSubnets(m).map((c) => formatCidr(c)),
  };
}

/** Suggested values for a new server, for the setup form (and the curious shell user). */
export function defaults(args: Args): Reply {
  const { model: m } = loadModel(sessionOf(args));
  const iface = ifaceArg(args);
  const existing = wgInterface(m, iface);
  if (existing !== undefined) return { interface: iface, exists: true, current: interfaceView(m, existing) };
  const used = new LuaTable<number, boolean>();
  for (const s of wgInterfaces(m)) used.set(num(s, "listen_port") ?? 0, true);
  let port = DEFAULT_PORT;
  while (used.get(port)) port++;
  // The first 192.168.X.0/24 (X from 100) that no interface or tunnel uses.
  const taken = [...otherNetworks(m).map((o) => o.net), ...wgInterfaces(m).flatMap((s) => interfaceAddresses(s).map((c) => networkOf(c)))];
  let address = "192.168.100.1/24";
  for (let third = 100; third < 250; third++) {
    const candidate = parseCidr(`192.168.${third}.0/24`, false) as Cidr;
    if (!taken.some((t) => overlaps(t, candidate))) {
      address = `192.168.${third}.1/24`;
      break;
    }
  }
  const wan = m.section("network", "wan");
  const lanIp = lanAddresses(m)[0];
  const warnings: string[] = [];
  return {
    interface: iface,
    exists: false,
    listen_port: port,
    address,
    mtu: opt(wan, "proto") === "pppoe" ? 1412 : 1420,
    zone: zoneByName(m, "lan") !== undefined ? "lan" : "own",
    endpoint_host: ddnsHost() ?? publicWanAddress(port, warnings),
    warnings,
    dns: lanIp !== undefined ? [formatAddress(lanIp.addr)] : [],
  };
}

/** The public name of an enabled DDNS service (/etc/config/ddns lookup_host), if any. */
function ddnsHost(): string | undefined {
  const text = readFile(`${CONFDIR ?? "/etc/config"}/ddns`);
  if (text === undefined) return undefined;
  const cursor = uci.cursor(CONFDIR);
  let host: string | undefined;
  cursor.foreach("ddns", "service", (s) => {
    if (s.enabled === "1" && typeof s.lookup_host === "string") {
      host = s.lookup_host;
      return false;
    }
  });
  return host;
}

export function setup(args: Args): Reply {
  const iface = ifaceArg(args);
  const listenPort = int(args, "listen_port");
  if (listenPort !== undefined) check("listen_port", checkPort(listenPort));
  const address = str(args, "address");
  if (address !== undefined) check("address", checkInterfaceAddress(address, 4));
  const address6 = str(args, "address6");
  if (address6 !== undefined && address6 !== "") check("address6", checkInterfaceAddress(address6, 6));
  const mtu = int(args, "mtu");
  if (mtu !== undefined) check("mtu", checkMtu(mtu));
  const zone = str(args, "zone");
  if (zone !== undefined && zone !== "lan" && zone !== "own") {
    fail("INVALID_ARGUMENT", '"zone" is "lan" (join the LAN zone) or "own" (a zone of its own).', "zone");
  }
  const endpointHost = str(args, "endpoint_host");
  if (endpointHost !== undefined && endpointHost !== "") check("endpoint_host", checkHost(endpointHost));
  const dns = dnsArg(args);

  return mutate(args, (m, warnings) => {
    const existing = m.section("network", iface);
    if (existing !== undefined && (existing.type !== "interface" || opt(existing, "proto") !== "wireguard")) {
      fail("CONFLICT", `The network interface "${iface}" exists and is not a WireGuard interface.`, "interface");
    }
    // A key is generated once; re-running setup never replaces it.
    const keys = opt(existing, "private_key") === undefined ? generateKeys(true, false) : undefined;
    const planWarnings = planSetup(
      m,
      { iface, listenPort, address, address6: address6 === "" ? undefined : address6, mtu, zone: zone as ZoneMode | undefined, endpointHost, dns },
      keys !== undefined ? { privateKey: keys.privateKey as string, publicKey: keys.publicKey as string } : undefined,
    );
    for (const w of planWarnings) warnings.push(w);
    const s = wgInterface(m, iface) as Section;
    return {
      interface: iface,
      created: existing === undefined,
      public_key: keys?.publicKey ?? interfacePublicKey(m, s),
      listen_port: num(s, "listen_port"),
      addresses: list(s, "addresses"),
    };
  });
}

export function add_peer(args: Args): Reply {
  const iface = ifaceArg(args);
  const req = peerRequest(args, iface);
  if (req.name === undefined) fail("MISSING_ARGUMENT", '"name" is required (for example "iPhone").', "name");
  // "" (as in list's example, or an empty form field) means: generate the key pair here.
  const givenKey = str(args, "public_key");
  const publicKey = givenKey === "" ? undefined : givenKey;
  if (publicKey !== undefined) check("public_key", checkKey(publicKey));
  const wantPsk = bool(args, "preshared_key") ?? true;
  const keep = bool(args, "keep_private_key") ?? true;

  return mutate(args, (m, warnings) => {
    requireInterface(m, iface);
    const keys = generateKeys(publicKey === undefined, wantPsk);
    const p = planAddPeer(m, { ...req, name: req.name as string }, {
      publicKey: publicKey ?? (keys.publicKey as string),
      privateKey: keep ? keys.privateKey : undefined,
      presharedKey: keys.presharedKey,
    });
    const s = wgInterface(m, iface) as Section;
    splitTunnelNote(m, req.tunnel, warnings);
    if (publicKey === undefined && !keep) {
      warnings.push("The private key is in this reply only and was not kept on the router: save the configuration now.");
    }
    return {
      interface: iface,
      peer: peerView(m, s, p),
      // The private key goes into this config even when it is not kept on the router.
      config: clientConfig(m, s, p, keys.privateKey, warnings),
      filename: configFileName(req.name as string, p.name),
    };
  });
}

export function update_peer(args: Args): Reply {
  const iface = ifaceArg(args);
  const ref = requiredStr(args, "peer");
  const req = peerRequest(args, iface);
  const psk = bool(args, "preshared_key");
  return mutate(args, (m) => {
    const current = requirePeer(m, iface, ref);
    // true adds a key when there is none (an existing one is kept), false removes it.
    const presharedKey = psk === true && opt(current, "preshared_key") === undefined ? generateKeys(false, true).presharedKey : undefined;
    const p = planUpdatePeer(m, ref, { ...req, presharedKey, removePresharedKey: psk === false });
    return { interface: iface, peer: peerView(m, wgInterface(m, iface) as Section, p) };
  });
}

export function remove_peer(args: Args): Reply {
  const iface = ifaceArg(args);
  const ref = requiredStr(args, "peer");
  return mutate(args, (m) => {
    const p = planRemovePeer(m, iface, ref);
    return { interface: iface, removed: p.name, name: opt(p, "description") ?? p.name };
  });
}

export function peer_config(args: Args): Reply {
  const iface = ifaceArg(args);
  const ref = requiredStr(args, "peer");
  const { model: m } = loadModel(sessionOf(args));
  const s = requireInterface(m, iface);
  const p = requirePeer(m, iface, ref);
  const warnings: string[] = [];
  const privateKey = opt(p, "private_key");
  if (privateKey === undefined) {
    warnings.push("The router did not keep this device's private key, so the configuration has no PrivateKey: insert the key saved when the device was added.");
  }
  const name = opt(p, "description") ?? p.name;
  return {
    interface: iface,
    peer: p.name,
    name,
    private_key_kept: privateKey !== undefined,
    config: clientConfig(m, s, p, privateKey, warnings),
    filename: configFileName(name, p.name),
    warnings,
  };
}

export function add_route(args: Args): Reply {
  const iface = ifaceArg(args);
  const target = requiredStr(args, "target");
  check("target", checkSubnet(target));
  const gateway = str(args, "gateway");
  if (gateway !== undefined && gateway !== "") check("gateway", checkIpAddress(gateway));
  const metric = int(args, "metric");
  if (metric !== undefined) check("metric", checkMetric(metric));
  return mutate(args, (m, warnings) => {
    const r = planAddRoute(m, { iface, target, gateway: gateway === "" ? undefined : gateway, metric }, warnings);
    return { interface: iface, route: { id: r.name, target: opt(r, "target"), gateway: opt(r, "gateway"), metric: num(r, "metric") } };
  });
}

export function remove_route(args: Args): Reply {
  const iface = ifaceArg(args);
  const ref = str(args, "route") ?? str(args, "target");
  if (ref === undefined || ref === "") fail("MISSING_ARGUMENT", '"route" (its id) or "target" is required.', "route");
  return mutate(args, (m) => {
    const r = planRemoveRoute(m, iface, ref);
    return { interface: iface, removed: r.name, target: opt(r, "target") };
  });
}

export function teardown(args: Args): Reply {
  const iface = ifaceArg(args);
  return mutate(args, (m) => {
    planTeardown(m, iface);
    return { interface: iface, removed: true };
  });
}

/** Makes the running interface match the committed configuration (LuCI calls it after Save & Apply). */
export function sync(args: Args): Reply {
  const iface = ifaceArg(args);
  sessionOf(args); // validated, but sync always reads what is committed
  const { model: m } = loadModel(undefined);
  requireInterface(m, iface);
  const warnings: string[] = [];
  const r = syncInterface(m, iface, warnings, true);
  return { interface: iface, running: r.running, peers: r.peers, warnings };
}

export const METHODS: Record<string, (args: Args) => Reply> = {
  status,
  get,
  defaults,
  setup,
  add_peer,
  update_peer,
  remove_peer,
  peer_config,
  add_route,
  remove_route,
  sync,
  teardown,
};

/** Example arguments per method, as rpcd's `list` wants them (each value's type is the argument's type). */
export const SIGNATURES: Record<string, Reply> = {
  status: { interface: "wg0" },
  get: { interface: "wg0" },
  defaults: { interface: "wg0" },
  setup: {
    interface: "wg0",
    listen_port: 51820,
    address: "192.168.100.1/24",
    address6: "fd00:100::1/64",
    mtu: 1420,
    zone: "lan",
    endpoint_host: "myhome.example.net",
    dns: ["192.168.1.1"],
  },
  add_peer: {
    interface: "wg0",
    name: "iPhone",
    address: "192.168.100.2",
    tunnel: "full",
    subnets: ["192.168.200.0/24"],
    keepalive: 25,
    preshared_key: true,
    public_key: "",
    keep_private_key: true,
    dns: ["192.168.1.1"],
  },
  update_peer: {
    interface: "wg0",
    peer: "wg0_iphone",
    name: "iPhone",
    address: "192.168.100.2",
    tunnel: "split",
    subnets: ["192.168.200.0/24"],
    keepalive: 25,
    enabled: true,
    preshared_key: true,
    dns: ["192.168.1.1"],
  },
  remove_peer: { interface: "wg0", peer: "wg0_iphone" },
  peer_config: { interface: "wg0", peer: "wg0_iphone" },
  add_route: { interface: "wg0", target: "192.168.200.0/24", gateway: "192.168.100.2", metric: 10 },
  remove_route: { interface: "wg0", route: "wgmgr_wg0_route1", target: "192.168.200.0/24" },
  sync: { interface: "wg0" },
  teardown: { interface: "wg0" },
};


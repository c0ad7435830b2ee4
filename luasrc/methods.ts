// The ubus methods. Each one: read and check the arguments → load the model once →
// plan (plan.ts) → apply (apply.ts: stage into the LuCI session, or commit and make it
// live) → reply. Nothing is written before every check has passed.

import * as uci from "uci";
import type { UciSection } from "uci";
import { Cidr, formatAddress, formatCidr, networkOf, nonPublicRange, overlaps, parseAddress, parseCidr } from "./common/ip";
import { T } from "./common/text";
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
  isUciName,
  Destination,
  formatDestination,
  parseDestination,
  Problem,
  problem,
  splitList,
  trimName,
} from "./common/validate";
import { accessOf, describeAccess } from "./access";
import { configFileName, formatEndpoint, renderClientConfig } from "./common/wgconf";
import { QuickConfig, parseWgQuick } from "./common/wgquick";
import { DefaultRoute, planImport } from "./import";
import { Method, Reader, Reply, arg, bool, checked, int, method, requiredStr, str, strList } from "./args";
import { check, fail, warning, Warning } from "./errors";
import { lazyList } from "./json";
import { generateKeys, publicKeyOf } from "./keys";
import { loadModel, mutate, stagedFor } from "./apply";
import { LiveInterface, LivePeer, defaultRouteDevice, inSync, readDump, resolveHost, scheduleWatchdog, syncInterface, wanAddress, wanHasIpv6 } from "./live";
import { diagnose } from "./diagnose";
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
  planMasquerade,
  planRemovePeer,
  planRemoveRoute,
  planSetup,
  planTeardown,
  planUpdatePeer,
  requireInterface,
  requirePeer,
  routeWarnings,
  siteNetworks,
} from "./plan";
import { interfaceAddresses, interfaceRole, lanAddresses, lanSubnets, otherNetworks, peerAllowedIps, peersOf, wgInterface, wgInterfaces, zoneByName } from "./router";
import { CONFDIR, MODULES, fileExists } from "./system";

// ---- readers of the arguments (see args.ts) -------------------------------------------------

/** The interface a method works on: "wg0" unless given. */
const ifaceName: Reader<string> = (args, field) => {
  const v = str(args, field) ?? "wg0";
  check(field, checkInterfaceName(v));
  return v;
};

/** An interface to narrow a listing to, if given. */
const onlyIface = checked(str, checkInterfaceName);

const dnsList: Reader<string[] | undefined> = (args, field) => {
  const raw = strList(args, field);
  if (raw === undefined) return undefined;
  const dns = splitList(raw);
  for (const d of dns) check(field, checkDnsServer(d));
  return dns;
};

/** Networks, normalised ("192.168.5.0/24"); a bare address is a host. */
const subnetList: Reader<string[] | undefined> = (args, field) => {
  const raw = strList(args, field);
  if (raw === undefined) return undefined;
  const out: string[] = [];
  for (const s of splitList(raw)) {
    check(field, checkSubnet(s));
    out.push(formatCidr(parseCidr(s, true) as Cidr));
  }
  return out;
};

const tunnel: Reader<Tunnel | undefined> = (args, field) => {
  const v = args[field];
  if (v === "full" || v === "split") return v;
  const custom = subnetList(args, field);
  if (custom === undefined) return undefined;
  if (custom.length === 0) fail("NO_ALLOWED_IPS", T('Give "full", "split" or the networks the device should reach through the tunnel.'), field);
  return custom;
};

/** A device name, trimmed; "" and spaces are refused. */
const peerName: Reader<string | undefined> = (args, field) => {
  const v = str(args, field);
  if (v === undefined) return undefined;
  check(field, checkPeerName(v));
  return trimName(v);
};

/** A device's tunnel address ("" = choose one). */
const hostAddress: Reader<string | undefined> = (args, field) => {
  const v = str(args, field);
  if (v === undefined || v === "") return undefined;
  if (parseCidr(v, true) === undefined) fail("INVALID_ADDRESS", T('"{text}" is not an IP address (for example 192.168.100.2).', { text: v }), field);
  return v;
};

/** An optional string where "" means "none" (removes the setting). */
const optionalStr = (problem: (v: string) => Problem | undefined): Reader<string | undefined> => checked(str, problem);

const port = checked(int, checkPort);
const mtu = checked(int, checkMtu);
const keepalive = checked(int, checkKeepalive);
const metric = checked(int, checkMetric);
const zone = checked(str, (z: string) =>
  z === "lan" || z === "own" ? undefined : problem("INVALID_ARGUMENT", T('"zone" is "lan" (join the LAN zone) or "own" (a zone of its own).')),
);
const publicKey = checked(str, checkKey);
const peerRef = requiredStr;

// ---- views of the model --------------------------------------------------------------

function peerView(m: Model, iface: Section, p: Section): Reply {
  const meta = m.section("wgmgr", p.name);
  const acc = accessOf(m, p);
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
    // Where the router dials this peer (a relay), if it does.
    endpoint: configuredEndpoint(p),
    access: acc.mode,
    access_to: acc.to.map((d) => formatDestination(d)),
    access_text: describeAccess(acc),
    enabled: isPeerEnabled(p),
    preshared_key: opt(p, "preshared_key") !== undefined,
    private_key_kept: opt(p, "private_key") !== undefined,
    dns: list(meta, "dns"),
  };
}

/** Where the router dials a peer (a relay's endpoint_host and port), if it does. */
function configuredEndpoint(p: Section | undefined): string | undefined {
  const host = opt(p, "endpoint_host");
  return host !== undefined ? formatEndpoint(host, num(p, "endpoint_port") ?? DEFAULT_PORT) : undefined;
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
    role: interfaceRole(m, iface.name),
    default_route: opt(meta, "default_route"),
    masquerade: opt(meta, "masquerade") === "1",
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
    routes: ownedRoutes(m, iface.name).map((r) => {
      const target = parseCidr(opt(r, "target") ?? "", true);
      return {
        id: r.name,
        target: opt(r, "target"),
        gateway: opt(r, "gateway"),
        metric: num(r, "metric"),
        // Shown next to the route (what add_route said, as it still holds).
        warnings: target !== undefined ? routeWarnings(m, iface.name, networkOf(target)) : [],
      };
    }),
  };
}

// ---- client configuration ------------------------------------------------------------

/**
 * The WAN address as an endpoint, with a warning when it cannot be reached from the
 * Internet (the most common reason a handshake never completes: double NAT or CGNAT).
 */
function publicWanAddress(port: number, warnings: Warning[]): string | undefined {
  const wan = wanAddress();
  const a = wan !== undefined ? parseAddress(wan) : undefined;
  const range = a !== undefined ? nonPublicRange(a) : undefined;
  if (range !== undefined) {
    warnings.push(
      warning(
        "WAN_NOT_PUBLIC",
        T(
          "The router's WAN address {address} is in {range}: devices on the Internet cannot reach it. Forward UDP port {port} to this router on the device in front of it, or, behind carrier-grade NAT, connect through a relay with a public address; then set endpoint_host to the public name.",
          { address: wan as string, range, port },
        ),
      ),
    );
  }
  return wan;
}

function clientConfig(m: Model, iface: Section, p: Section, privateKey: string | undefined, warnings: Warning[]): string {
  const meta = m.section("wgmgr", iface.name);
  const peerMeta = m.section("wgmgr", p.name);
  const port = num(iface, "listen_port") ?? DEFAULT_PORT;
  const host = opt(meta, "endpoint_host") ?? publicWanAddress(port, warnings);
  if (host === undefined) {
    warnings.push(warning("NO_ENDPOINT", T("The router's public address is unknown: set endpoint_host with setup (your DDNS name), then fetch the config again.")));
  }
  const serverKey = interfacePublicKey(m, iface);
  if (serverKey === undefined) fail("NOT_CONFIGURED", T("{interface} has no private key yet: run setup.", { interface: iface.name }), "interface");
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

/** The sites' networks of an interface, as one comparable string. */
const sitesOf = (m: Model, iface: string): string =>
  siteNetworks(m, iface)
    .map((c) => formatCidr(c))
    .sort()
    .join(",");

/**
 * After a change to the sites (a device with networks behind it added, changed, enabled or
 * removed), the other split-tunnel devices route another set of networks: says which
 * devices need their configuration again.
 */
function noteSiteChange(m: Model, iface: string, before: string, self: string, warnings: Warning[]): void {
  if (sitesOf(m, iface) === before) return;
  const stale = peersOf(m, iface).filter((p) => p.name !== self && isPeerEnabled(p) && opt(m.section("wgmgr", p.name), "tunnel") === "split");
  if (stale.length > 0) {
    const names = stale.map((p) => opt(p, "description") ?? p.name).join(", ");
    warnings.push(warning("SITES_CHANGED", T("The networks behind your sites changed: give these devices their configuration again: {devices}.", { devices: names })));
  }
}

/** A note for split tunnels that carry the office LAN exactly (scenarios.md S5). */
function splitTunnelNote(m: Model, tunnel: Tunnel | undefined, warnings: Warning[]): void {
  if (tunnel !== "split") return;
  for (const lan of lanSubnets(m)) {
    warnings.push(
      warning(
        "SPLIT_INSIDE_LAN",
        T(
          "When this device is itself inside {subnet} (at home or in the office), the tunnel route competes with the local one; advertising a wider prefix (custom tunnel, e.g. 192.168.0.0/16) lets the local route win on Linux, macOS, iOS and Android, not on Windows.",
          { subnet: formatCidr(lan) },
        ),
      ),
    );
  }
}

// ---- the methods -----------------------------------------------------------------------

/** A peer is online when its latest handshake is recent (WireGuard re-keys every 2 minutes). */
const ONLINE_SECONDS = 180;

/** One peer of `status`: its configuration (if any) merged with its live data (if running). */
function statusPeer(p: Section | undefined, lp: LivePeer | undefined, now: number): Reply {
  const handshake = lp?.latestHandshake ?? 0;
  return {
    id: p?.name,
    name: p !== undefined ? opt(p, "description") ?? p.name : undefined,
    public_key: lp?.publicKey ?? opt(p, "public_key"),
    // Where the peer was last seen; for a relay not yet reached, where the router dials it.
    endpoint: lp?.endpoint ?? configuredEndpoint(p),
    allowed_ips: lp !== undefined ? lp.allowedIps : list(p, "allowed_ips"),
    latest_handshake: handshake,
    rx_bytes: lp?.rxBytes ?? 0,
    tx_bytes: lp?.txBytes ?? 0,
    keepalive: (lp !== undefined ? lp.keepalive : num(p, "persistent_keepalive")) ?? 0,
    online: handshake > 0 && now - handshake < ONLINE_SECONDS,
    enabled: p === undefined || isPeerEnabled(p),
  };
}

// status describes what runs, so it reads the committed configuration, never a session's.
const status = method({ interface: arg(onlyIface, "wg0") }, ({ interface: only }) => {
  const { model: m } = loadModel(undefined);
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
      role: s !== undefined ? interfaceRole(m, name) : undefined,
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
  if (only !== undefined && interfaces.length === 0) fail("NOT_FOUND", T('There is no WireGuard interface "{interface}".', { interface: only }), "interface");
  return { interfaces, time: now, wg_available: dump.available };
});

const get = method({ interface: arg(onlyIface, "wg0") }, ({ interface: only }, session) => {
  const { model: m } = loadModel(session);
  const selected = only === undefined ? wgInterfaces(m) : [requireInterface(m, only)];
  return {
    interfaces: selected.map((s) => interfaceView(m, s)),
    lan_subnets: lanSubnets(m).map((c) => formatCidr(c)),
  };
});

/** Suggested values for a new server, for the setup form (and the curious shell user). */
const defaults = method({ interface: arg(ifaceName, "wg0") }, ({ interface: iface }, session) => {
  const { model: m } = loadModel(session);
  const existing = wgInterface(m, iface);
  if (existing !== undefined) {
    // `current` includes what the session staged; `pending` says it is not applied yet.
    return {
      interface: iface,
      exists: true,
      current: interfaceView(m, existing),
      pending: session !== undefined && stagedFor(session, iface),
      side_router: sideRouter(m, interfaceAddresses(existing)),
    };
  }
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
  const warnings: Warning[] = [];
  return {
    interface: iface,
    exists: false,
    listen_port: port,
    address,
    address6: ulaTunnelAddress(m, taken, address),
    mtu: opt(wan, "proto") === "pppoe" ? 1412 : 1420,
    zone: zoneByName(m, "lan") !== undefined ? "lan" : "own",
    endpoint_host: ddnsHost() ?? publicWanAddress(port, warnings),
    side_router: sideRouter(m, [parseCidr(address, false) as Cidr]),
    warnings,
    dns: lanIp !== undefined ? [formatAddress(lanIp.addr)] : [],
  };
});

/**
 * An IPv6 tunnel address from the router's own ULA prefix (network.globals.ula_prefix,
 * a /48): the /64 whose subnet number is the IPv4 tunnel's third byte (192.168.100.x →
 * <prefix>:64::1/64), far from the /60s that ip6assign hands the LANs from the start.
 */
function ulaTunnelAddress(m: Model, taken: Cidr[], address4: string): string | undefined {
  const ula = parseCidr(opt(m.section("network", "globals"), "ula_prefix") ?? "", false);
  if (ula === undefined || ula.addr.family !== 6 || ula.prefix > 48) return undefined;
  const third = (parseCidr(address4, false) as Cidr).addr.words[1];
  const words = [...networkOf(ula).addr.words];
  words[3] = Math.floor(third / 256);
  const net: Cidr = { addr: { family: 6, words }, prefix: 64 };
  if (taken.some((t) => overlaps(t, net))) return undefined;
  words[7] = 1;
  return formatCidr({ addr: { family: 6, words }, prefix: 64 });
}

/** The first section of `type` in a config file outside the model (ddns, dhcp) that `pick` accepts. */
function findIn(config: string, type: string, pick: (s: UciSection) => boolean): UciSection | undefined {
  if (!fileExists(`${CONFDIR ?? "/etc/config"}/${config}`)) return undefined;
  let found: UciSection | undefined;
  uci.cursor(CONFDIR).foreach(config, type, (s) => {
    if (!pick(s)) return;
    found = s;
    return false;
  });
  return found;
}

/** The public name of an enabled DDNS service (/etc/config/ddns lookup_host), if any. */
function ddnsHost(): string | undefined {
  const s = findIn("ddns", "service", (x) => x.enabled === "1" && typeof x.lookup_host === "string");
  return s?.lookup_host as string | undefined;
}

/**
 * Whether this router is a side router (not the LAN's gateway: LAN hosts answer tunnel
 * devices through another router, which knows nothing of the tunnel), and the return
 * route that other router would need. Either that route or masquerade makes it work.
 */
function sideRouter(m: Model, tunnels: Cidr[]): Reply | undefined {
  const lan = m.section("network", "lan");
  const reasons: Warning[] = [];
  const gateway = opt(lan, "gateway");
  if (gateway !== undefined) reasons.push(warning("LAN_GATEWAY", T("the LAN interface has a gateway ({gateway}): another router is the way out", { gateway })));
  if (findIn("dhcp", "dhcp", (x) => x.interface === "lan" && x.ignore === "1") !== undefined) {
    reasons.push(warning("NO_LAN_DHCP", T("this router hands out no addresses on the LAN (its DHCP server is off), so LAN hosts use another router as their gateway")));
  }
  const dev = defaultRouteDevice();
  if (dev !== undefined && dev === opt(lan, "device")) reasons.push(warning("DEFAULT_VIA_LAN", T("this router's own default route leaves through the LAN ({device})", { device: dev })));
  const own = lanAddresses(m).find((c) => c.addr.family === 4);
  if (reasons.length === 0 || own === undefined) return undefined;
  return {
    reasons,
    return_routes: tunnels.filter((t) => t.addr.family === 4).map((t) => `${formatCidr(networkOf(t))} via ${formatAddress(own.addr)}`),
  };
}

const setup = method(
  {
    interface: arg(ifaceName, "wg0"),
    listen_port: arg(port, 51820),
    address: arg(optionalStr((a) => checkInterfaceAddress(a, 4)), "192.168.100.1/24"),
    address6: arg(optionalStr((a) => checkInterfaceAddress(a, 6)), "fd00:100::1/64"),
    mtu: arg(mtu, 1420),
    zone: arg(zone, "lan"),
    endpoint_host: arg(optionalStr(checkHost), "myhome.example.net"),
    dns: arg(dnsList, ["192.168.1.1"]),
    masquerade: arg(bool, false),
  },
  (req, session) =>
    mutate(session, (m, warnings) => {
      const iface = req.interface;
      const existing = m.section("network", iface);
      if (existing !== undefined && (existing.type !== "interface" || opt(existing, "proto") !== "wireguard")) {
        fail("CONFLICT", T('The network interface "{interface}" exists and is not a WireGuard interface.', { interface: iface }), "interface");
      }
      if (existing !== undefined && interfaceRole(m, iface) === "client") {
        fail("CONFLICT", T("{interface} dials out to a relay (it was imported): setup is for a server that devices dial into.", { interface: iface }), "interface");
      }
      // A key is generated once; re-running setup never replaces it.
      const keys = opt(existing, "private_key") === undefined ? generateKeys(true, false) : undefined;
      const planWarnings = planSetup(
        m,
        {
          iface,
          listenPort: req.listen_port,
          address: req.address === "" ? undefined : req.address,
          // "" removes the IPv6 tunnel (and the devices' IPv6 addresses).
          address6: req.address6,
          mtu: req.mtu,
          zone: req.zone as ZoneMode | undefined,
          endpointHost: req.endpoint_host,
          dns: req.dns,
        },
        keys !== undefined ? { privateKey: keys.privateKey as string, publicKey: keys.publicKey as string } : undefined,
      );
      for (const w of planWarnings) warnings.push(w);
      // Kept as it is unless asked; re-applied so that a new tunnel subnet is masqueraded.
      planMasquerade(m, iface, req.masquerade ?? opt(m.section("wgmgr", iface), "masquerade") === "1");
      const s = wgInterface(m, iface) as Section;
      return {
        interface: iface,
        created: existing === undefined,
        public_key: keys?.publicKey ?? interfacePublicKey(m, s),
        listen_port: num(s, "listen_port"),
        addresses: list(s, "addresses"),
      };
    }),
);

/**
 * What a device may reach: "lan", "internet", "router", or destinations (a host or network,
 * with ports and tcp/udp if limited), one per list entry (commas separate ports in them).
 */
const access: Reader<string | Destination[] | undefined> = (args, field) => {
  const v = args[field];
  if (v === "lan" || v === "internet" || v === "router") return v;
  const raw = strList(args, field);
  if (raw === undefined) return undefined;
  const out: Destination[] = [];
  for (const text of raw) {
    const d = parseDestination(trimName(text));
    if (!("net" in d)) return fail(d.code, d, field);
    out.push(d);
  }
  if (out.length === 0) fail("INVALID_ACCESS", T('Give "lan", "internet", "router" or the destinations the device may reach.'), field);
  return out;
};

/** What add_peer and update_peer both take about a device. */
const peerArgs = {
  interface: arg(ifaceName, "wg0"),
  name: arg(peerName, "iPhone"),
  address: arg(hostAddress, "192.168.100.2"),
  tunnel: arg(tunnel, "full"),
  subnets: arg(subnetList, ["192.168.200.0/24"]),
  keepalive: arg(keepalive, 25),
  preshared_key: arg(bool, true),
  dns: arg(dnsList, ["192.168.1.1"]),
  access: arg(access, "lan"),
};

const add_peer = method(
  {
    ...peerArgs,
    // "" (as in list's example, or an empty form field) means: generate the key pair here.
    public_key: arg(publicKey, ""),
    keep_private_key: arg(bool, true),
  },
  (req, session) => {
    const name = req.name;
    if (name === undefined) return fail("MISSING_ARGUMENT", T('"name" is required (for example "iPhone").'), "name");
    const givenKey = req.public_key === "" ? undefined : req.public_key;
    const keep = req.keep_private_key ?? true;
    return mutate(session, (m, warnings) => {
      requireInterface(m, req.interface);
      const keys = generateKeys(givenKey === undefined, req.preshared_key ?? true);
      const sites = sitesOf(m, req.interface);
      const p = planAddPeer(m, { ...peerRequest(req), name }, {
        publicKey: givenKey ?? (keys.publicKey as string),
        privateKey: keep ? keys.privateKey : undefined,
        presharedKey: keys.presharedKey,
      });
      const s = wgInterface(m, req.interface) as Section;
      noteSiteChange(m, req.interface, sites, p.name, warnings);
      splitTunnelNote(m, req.tunnel, warnings);
      if (givenKey === undefined && !keep) {
        warnings.push(warning("KEY_NOT_KEPT", T("The private key is in this reply only and was not kept on the router: save the configuration now.")));
      }
      return {
        interface: req.interface,
        peer: peerView(m, s, p),
        // The private key goes into this config even when it is not kept on the router.
        config: clientConfig(m, s, p, keys.privateKey, warnings),
        filename: configFileName(name, p.name),
      };
    });
  },
);

const update_peer = method(
  { ...peerArgs, peer: arg(peerRef, "wg0_iphone"), enabled: arg(bool, true) },
  (req, session) =>
    mutate(session, (m, warnings) => {
      const current = requirePeer(m, req.interface, req.peer);
      const sites = sitesOf(m, req.interface);
      // true adds a key when there is none (an existing one is kept), false removes it.
      const psk = req.preshared_key;
      const presharedKey = psk === true && opt(current, "preshared_key") === undefined ? generateKeys(false, true).presharedKey : undefined;
      const p = planUpdatePeer(m, req.peer, { ...peerRequest(req), presharedKey, removePresharedKey: psk === false });
      noteSiteChange(m, req.interface, sites, p.name, warnings);
      return { interface: req.interface, peer: peerView(m, wgInterface(m, req.interface) as Section, p) };
    }),
);

/** The part of a request about a device, as the planners take it. */
function peerRequest(req: {
  access?: string | Destination[];
  interface: string;
  name?: string;
  address?: string;
  tunnel?: Tunnel;
  subnets?: string[];
  keepalive?: number;
  dns?: string[];
  enabled?: boolean;
}): PeerRequest {
  return {
    iface: req.interface,
    name: req.name,
    address: req.address,
    tunnel: req.tunnel,
    subnets: req.subnets,
    keepalive: req.keepalive,
    dns: req.dns,
    disabled: req.enabled === undefined ? undefined : !req.enabled,
    access: req.access,
  };
}

const peerTarget = { interface: arg(ifaceName, "wg0"), peer: arg(peerRef, "wg0_iphone") };

const remove_peer = method(peerTarget, (req, session) =>
  mutate(session, (m, warnings) => {
    const sites = sitesOf(m, req.interface);
    const p = planRemovePeer(m, req.interface, req.peer);
    noteSiteChange(m, req.interface, sites, p.name, warnings);
    return { interface: req.interface, removed: p.name, name: opt(p, "description") ?? p.name };
  }),
);

const peer_config = method(peerTarget, (req, session) => {
  const { model: m } = loadModel(session);
  const s = requireInterface(m, req.interface);
  const p = requirePeer(m, req.interface, req.peer);
  const warnings: Warning[] = [];
  const privateKey = opt(p, "private_key");
  if (privateKey === undefined) {
    warnings.push(
      warning("NO_PRIVATE_KEY", T("The router did not keep this device's private key, so the configuration has no PrivateKey: insert the key saved when the device was added.")),
    );
  }
  const name = opt(p, "description") ?? p.name;
  if (!isPeerEnabled(p)) warnings.push(warning("DISABLED", T('"{name}" is disabled: this configuration cannot connect until the device is enabled again.', { name })));
  return {
    interface: req.interface,
    peer: p.name,
    name,
    enabled: isPeerEnabled(p),
    private_key_kept: privateKey !== undefined,
    config: clientConfig(m, s, p, privateKey, warnings),
    filename: configFileName(name, p.name),
    warnings,
  };
});

const add_route = method(
  {
    interface: arg(ifaceName, "wg0"),
    target: arg(checked(requiredStr, checkSubnet), "192.168.200.0/24"),
    gateway: arg(optionalStr(checkIpAddress), "192.168.100.2"),
    metric: arg(metric, 10),
    replace_default: arg(bool, false),
  },
  (req, session) =>
    mutate(session, (m, warnings) => {
      const r = planAddRoute(
        m,
        { iface: req.interface, target: req.target, gateway: req.gateway === "" ? undefined : req.gateway, metric: req.metric, replaceDefault: req.replace_default === true },
        warnings,
      );
      return { interface: req.interface, route: { id: r.name, target: opt(r, "target"), gateway: opt(r, "gateway"), metric: num(r, "metric") } };
    }),
);

const remove_route = method(
  {
    interface: arg(ifaceName, "wg0"),
    route: arg(checked(str, (r: string) => (isUciName(r) ? undefined : problem("NOT_FOUND", T('There is no route "{route}".', { route: r })))), "wgmgr_wg0_route1"),
    target: arg(checked(str, checkSubnet), "192.168.200.0/24"),
  },
  (req, session) => {
    const ref = req.route ?? req.target;
    if (ref === undefined || ref === "") fail("MISSING_ARGUMENT", T('"route" (its id) or "target" is required.'), "route");
    return mutate(session, (m) => {
      const r = planRemoveRoute(m, req.interface, ref);
      return { interface: req.interface, removed: r.name, target: opt(r, "target") };
    });
  },
);

const teardown = method({ interface: arg(ifaceName, "wg0") }, (req, session) =>
  mutate(session, (m) => {
    planTeardown(m, req.interface);
    return { interface: req.interface, removed: true };
  }),
);

/** Makes the running interface match the committed configuration (LuCI calls it after Save & Apply). */
const sync = method({ interface: arg(ifaceName, "wg0") }, ({ interface: iface }) => {
  // A session is accepted, but sync always reads what is committed: it is about what runs.
  const { model: m } = loadModel(undefined);
  requireInterface(m, iface);
  const warnings: Warning[] = [];
  const r = syncInterface(m, iface, warnings, true);
  // After LuCI's Save & Apply, this is where changes outside UCI catch up.
  scheduleWatchdog(m, warnings);
  return { interface: iface, running: r.running, peers: r.peers, warnings };
});

/** A wg-quick file from a relay, read by the shared parser; a problem names its line ("config:<n>"). */
const quickFile: Reader<QuickConfig> = (args, field) => {
  const text = requiredStr(args, field);
  const { config, problem } = parseWgQuick(text);
  if (problem !== undefined) fail(problem.code, problem, `${field}:${problem.line}`);
  return config as QuickConfig;
};

const import_ = method(
  {
    interface: arg(checked(requiredStr, checkInterfaceName), "wg1"),
    config: arg(quickFile, "[Interface]\nPrivateKey = …\nAddress = 10.70.0.2/16\n\n[Peer]\nPublicKey = …\nAllowedIPs = 10.70.0.0/16\nEndpoint = relay.example.net:51820\n"),
    zone: arg(zone, "lan"),
    name: arg(peerName, "relay"),
    default_route: arg(
      checked(str, (v: string) => (v === "keep" || v === "tunnel" ? undefined : problem("INVALID_ARGUMENT", T('"default_route" is "keep" or "tunnel".')))),
      "keep",
    ),
    masquerade: arg(bool, false),
  },
  (req, session) =>
    mutate(session, (m, warnings) => {
      if (m.section("network", req.interface) !== undefined) {
        fail("ALREADY_EXISTS", T('There is already an interface "{interface}": import into a new one (for example wg1).', { interface: req.interface }), "interface");
      }
      planImport(m, { iface: req.interface, file: req.config, zone: (req.zone ?? "lan") as ZoneMode, name: req.name, defaultRoute: req.default_route as DefaultRoute | undefined }, warnings);
      planMasquerade(m, req.interface, req.masquerade === true);
      const s = wgInterface(m, req.interface) as Section;
      // Derived once and kept, as setup does, so that get and status need no fork for it.
      const publicKey = publicKeyOf(opt(s, "private_key") as string);
      m.set("wgmgr", req.interface, "public_key", publicKey);
      return { interface: req.interface, role: "client", public_key: publicKey, addresses: list(s, "addresses"), peers: lazyPeers(m, s) };
    }),
);

/** What is wrong with an interface, and the call that fixes each finding (diagnose.ts). */
const diagnose_ = method({ interface: arg(ifaceName, "wg0") }, ({ interface: ifn }, session) => {
  // The configuration as the session sees it (a fix it staged shows as fixed), the
  // running system as it is.
  const { model: m } = loadModel(session);
  const iface = requireInterface(m, ifn);
  const dump = readDump();
  const live = dump.interfaces[ifn];
  const server = interfaceRole(m, ifn) === "server";
  const host = opt(m.section("wgmgr", ifn), "endpoint_host");
  const hostAddr = host !== undefined ? parseAddress(host) : undefined;
  const wan = server ? wanAddress() : undefined;
  const findings = diagnose(m, iface, {
    live,
    inSync: live !== undefined ? inSync(m, ifn, live) : undefined,
    wgAvailable: dump.available,
    kmod: live !== undefined || fileExists(`${MODULES}/wireguard`),
    wan,
    // Forks only where a check needs the answer.
    wanIpv6: server && (hostAddr?.family === 6 || (hostAddr?.family === 4 && wan === undefined)) ? wanHasIpv6() : false,
    resolved: server && host !== undefined && hostAddr === undefined ? resolveHost(host) : undefined,
    dhcpOffOnLan: findIn("dhcp", "dhcp", (x) => x.interface === "lan" && x.ignore === "1") !== undefined,
    now: os.time(),
  });
  return { interface: ifn, findings: lazyList(findings.length, (i) => findings[i]) };
});

/** Every method of the ubus object, with its arguments (args.ts). */
export const METHODS: Record<string, Method> = {
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
  import: import_,
  diagnose: diagnose_,
};

// The planners: pure functions from (model, validated request) to edits on the model.
// This is where the product's knowledge lives: which sections a WireGuard server
// needs, how peers get addresses, what may not overlap. No I/O happens here; keys
// and other facts from the system are passed in.

import {
  Addr,
  Cidr,
  addressAt,
  containsAddress,
  formatAddress,
  formatCidr,
  maxPrefix,
  networkOf,
  offsetIn,
  overlaps,
  parseAddress,
  parseCidr,
  sameAddress,
  sizeOf,
} from "./common/ip";
import { Destination, foldCase } from "./common/validate";
import { accessNetworks, needsPolicy, planAccess, storedAccess } from "./access";
import { fail, warning, Warning } from "./errors";
import { T } from "./common/text";
import { Model, Section, flag, list, num, opt } from "./model";
import {
  findPeers,
  interfaceAddresses,
  isOwnedBy,
  lanAddresses,
  lanSubnets,
  otherNetworks,
  owned,
  peerAllowedIps,
  peerType,
  peersOf,
  tunnelSubnet,
  wgInterface,
  wgInterfaces,
  zoneByName,
  zonesWithNetwork,
} from "./router";

export type ZoneMode = "lan" | "own";
export type Tunnel = "full" | "split" | string[];

export const DEFAULT_PORT = 51820;
export const DEFAULT_KEEPALIVE = 25;

export function requireInterface(m: Model, iface: string): Section {
  const s = wgInterface(m, iface);
  if (s === undefined) {
    fail("NOT_FOUND", T('There is no WireGuard interface "{interface}" yet: run setup first.', { interface: iface }), "interface");
  }
  return s;
}

export function requirePeer(m: Model, iface: string, ref: string): Section {
  const found = findPeers(m, iface, ref);
  if (found.length === 0) fail("NOT_FOUND", T('"{interface}" has no peer "{peer}".', { interface: iface, peer: ref }), "peer");
  if (found.length > 1) fail("AMBIGUOUS", T('Several devices are called "{peer}" (in different case): name one by its id ({ids}).', { peer: ref, ids: found.map((p) => p.name).join(", ") }), "peer");
  return found[0];
}

// ---- setup --------------------------------------------------------------------

export interface SetupRequest {
  iface: string;
  listenPort?: number;
  address?: string;
  address6?: string;
  mtu?: number;
  zone?: ZoneMode;
  endpointHost?: string;
  dns?: string[];
}

/** Creates or updates the server interface, its handshake rule and its zone. */
export function planSetup(m: Model, req: SetupRequest, newKey?: { privateKey: string; publicKey: string }): Warning[] {
  const warnings: Warning[] = [];
  const { iface } = req;
  const existing = wgInterface(m, iface);
  if (existing === undefined && req.address === undefined && req.address6 === undefined) {
    fail("MISSING_ARGUMENT", T('"address" is required to create {interface} (for example 192.168.100.1/24).', { interface: iface }), "address");
  }
  const port = req.listenPort ?? num(existing, "listen_port") ?? DEFAULT_PORT;
  for (const other of wgInterfaces(m)) {
    if (other.name !== iface && num(other, "listen_port") === port) {
      fail("PORT_IN_USE", T('Port {port} is already used by WireGuard interface "{interface}".', { port, interface: other.name }), "listen_port");
    }
  }

  const addresses = interfaceAddresses(existing ?? { name: iface, type: "interface", anonymous: false, options: {} });
  const pick = (text: string | undefined, family: 4 | 6, field: string): Cidr | undefined => {
    if (text === undefined) return addresses.find((c) => c.addr.family === family);
    if (text === "") return undefined; // removes this family's tunnel
    const c = parseCidr(text, false) as Cidr;
    checkTunnelSubnetIsFree(m, iface, networkOf(c), field);
    return c;
  };
  const v4 = pick(req.address, 4, "address");
  const v6 = pick(req.address6, 6, "address6");
  if (v4 === undefined && v6 === undefined) {
    fail("MISSING_ARGUMENT", T('{interface} needs a tunnel address: give "address" (for example 192.168.100.1/24).', { interface: iface }), req.address6 === "" ? "address6" : "address");
  }
  // A hand-made interface may carry a bare /32: without a subnet nothing routes to the
  // tunnel after a restart, and no peer address can be allocated.
  for (const c of [v4, v6]) {
    if (c !== undefined && c.prefix > maxPrefix(c.addr.family) - 2) {
      fail(
        "INVALID_PREFIX",
        T("{interface}'s address {address} carries no tunnel subnet: give the address with its prefix, for example 192.168.100.1/24.", { interface: iface, address: formatCidr(c) }),
        c.addr.family === 4 ? "address" : "address6",
      );
    }
  }
  const newAddresses = [v4, v6].filter((c) => c !== undefined).map((c) => formatCidr(c as Cidr));
  if (existing !== undefined) {
    const oldPort = num(existing, "listen_port");
    const oldHost = opt(m.section("wgmgr", iface), "endpoint_host");
    const moved = (oldPort !== undefined && oldPort !== port) || (req.endpointHost !== undefined && oldHost !== undefined && req.endpointHost !== oldHost);
    if (moved && peersOf(m, iface).length > 0) {
      warnings.push(warning("ENDPOINT_CHANGED", T("The router's public address or port changed: give every device its configuration again (its Endpoint changed).")));
    }
  }

  m.create("network", iface, "interface");
  m.set("network", iface, "proto", "wireguard");
  if (newKey !== undefined) m.set("network", iface, "private_key", newKey.privateKey);
  m.set("network", iface, "listen_port", port);
  const before = existing !== undefined ? { 4: tunnelSubnet(existing, 4), 6: tunnelSubnet(existing, 6) } : undefined;
  m.set("network", iface, "addresses", newAddresses);
  if (before !== undefined) renumberPeers(m, wgInterface(m, iface) as Section, before, warnings);
  if (req.mtu !== undefined) m.set("network", iface, "mtu", req.mtu);

  const meta = m.create("wgmgr", iface, "interface");
  if (newKey !== undefined) m.set("wgmgr", iface, "public_key", newKey.publicKey);
  if (req.endpointHost !== undefined) m.set("wgmgr", iface, "endpoint_host", req.endpointHost);
  if (req.dns !== undefined) m.set("wgmgr", iface, "dns", req.dns);
  else if (existing === undefined) {
    // Clients resolve names through the router by default (its LAN address).
    const lan = lanAddresses(m)[0];
    if (lan !== undefined) m.set("wgmgr", iface, "dns", [formatAddress(lan.addr)]);
  }

  planHandshakeRule(m, iface, port, warnings);
  planZone(m, iface, req.zone ?? ((opt(meta, "zone") as ZoneMode | undefined) ?? "lan"), warnings);
  return warnings;
}

/** A tunnel subnet must not overlap the LAN, another interface, another tunnel or a network behind a device. */
export function checkTunnelSubnetIsFree(m: Model, iface: string, net: Cidr, field: string): void {
  for (const p of peersOf(m, iface)) {
    for (const c of peerAllowedIps(p)) {
      if (c.prefix < maxPrefix(c.addr.family) && overlaps(c, net)) {
        fail(
          "SUBNET_CONFLICT",
          T('The tunnel subnet {subnet} overlaps {other}, the network behind device "{device}".', { subnet: formatCidr(net), other: formatCidr(c), device: peerLabel(p) }),
          field,
        );
      }
    }
  }
  for (const o of otherNetworks(m)) {
    if (overlaps(o.net, net)) {
      fail(
        "SUBNET_CONFLICT",
        T('The tunnel subnet {subnet} overlaps {other} of interface "{interface}": pick another one, for example 192.168.100.0/24.', { subnet: formatCidr(net), other: formatCidr(o.net), interface: o.name }),
        field,
      );
    }
  }
  for (const other of wgInterfaces(m)) {
    if (other.name === iface) continue;
    for (const c of interfaceAddresses(other)) {
      if (overlaps(networkOf(c), net)) {
        fail(
          "SUBNET_CONFLICT",
          T('The tunnel subnet {subnet} overlaps WireGuard interface "{interface}" ({other}).', { subnet: formatCidr(net), interface: other.name, other: formatCidr(c) }),
          field,
        );
      }
    }
  }
}

/**
 * After the tunnel subnet changed: each device whose address was in the old subnet gets
 * one in the new (the same host number where it fits), and a removed family takes the
 * devices' addresses of that family with it. Says which devices need their configuration
 * again, since their Address changed.
 */
function renumberPeers(m: Model, iface: Section, before: Record<4 | 6, Cidr | undefined>, warnings: Warning[]): void {
  const moved: string[] = [];
  for (const family of [4, 6] as const) {
    const oldNet = before[family];
    const newNet = tunnelSubnet(iface, family);
    if (oldNet === undefined || (newNet !== undefined && sameAddress(oldNet.addr, newNet.addr) && oldNet.prefix === newNet.prefix)) continue;
    for (const p of peersOf(m, iface.name)) {
      const allowed = peerAllowedIps(p);
      const host = allowed.find((c) => c.prefix === maxPrefix(family) && containsAddress(oldNet, c.addr));
      if (host === undefined || (newNet !== undefined && isUsableHost(iface, newNet, host.addr))) continue;
      const rest = allowed.filter((c) => c !== host);
      if (newNet === undefined) {
        m.set("network", p.name, "allowed_ips", rest.map((c) => formatCidr(c)));
        continue;
      }
      // The device's own address is set aside first, so that allocation does not count it.
      m.set("network", p.name, "allowed_ips", rest.map((c) => formatCidr(c)));
      const a = allocateAddress(m, iface, newNet, offsetIn(oldNet, host.addr));
      m.set("network", p.name, "allowed_ips", [{ addr: a, prefix: host.prefix }, ...rest].map((c) => formatCidr(c)));
      moved.push(`${peerLabel(p)} (${formatAddress(host.addr)} → ${formatAddress(a)})`);
    }
  }
  if (moved.length > 0) {
    warnings.push(warning("RENUMBERED", T("The tunnel subnet changed, so these devices have new addresses and need their configuration again: {devices}.", { devices: moved.join(", ") })));
  }
}

/** True when `a` can stay a device's address in `net`: inside it, not its network or broadcast, not the router's. */
function isUsableHost(iface: Section, net: Cidr, a: Addr): boolean {
  if (!containsAddress(net, a) || sameAddress(a, net.addr)) return false;
  if (a.family === 4 && offsetIn(net, a) === sizeOf(net) - 1) return false;
  return !interfaceAddresses(iface).some((c) => sameAddress(c.addr, a));
}

export function planHandshakeRule(m: Model, iface: string, port: number, warnings: Warning[]): void {
  const name = owned.handshakeRule(iface);
  if (zoneByName(m, "wan") === undefined) {
    warnings.push(warning("NO_WAN_ZONE", T('There is no firewall zone "wan": open UDP port {port} to the Internet yourself, or no client can connect.', { port })));
    m.remove("firewall", name);
    return;
  }
  m.create("firewall", name, "rule");
  m.set("firewall", name, "name", `Allow-WireGuard-${iface}`);
  m.set("firewall", name, "src", "wan");
  m.set("firewall", name, "proto", "udp");
  m.set("firewall", name, "dest_port", port);
  m.set("firewall", name, "target", "ACCEPT");
  m.set("firewall", name, "enabled", undefined); // a rule switched off by hand is on again
}

/** Puts the interface in the LAN zone, or in a zone of its own that may reach lan and wan. */
export function planZone(m: Model, iface: string, mode: ZoneMode, warnings: Warning[]): void {
  m.set("wgmgr", iface, "zone", mode);
  const joined = opt(m.section("wgmgr", iface), "zone_joined");
  const ownZone = owned.zone(iface);
  if (mode === "lan") {
    if (needsPolicy(m, iface)) {
      fail(
        "ACCESS_NEEDS_OWN_ZONE",
        T("Some devices of {interface} may reach only part of the network: that needs a zone of its own, the LAN zone would let them reach everything.", { interface: iface }),
        "zone",
      );
    }
    // The own zone and what refers to it (fw4 drops a section naming a missing zone).
    for (const s of m.sections("firewall")) {
      if (isOwnedBy(s.name, iface) && (s.type === "zone" || s.type === "forwarding")) m.remove("firewall", s.name);
    }
    const lan = zoneByName(m, "lan");
    if (lan === undefined) fail("NO_LAN_ZONE", T('There is no firewall zone "lan" to join: use zone "own".'), "zone");
    for (const z of zonesWithNetwork(m, iface)) {
      if (z !== lan) warnings.push(warning("OTHER_ZONE", T('{interface} is also in firewall zone "{zone}"; remove it there so the LAN zone applies.', { interface: iface, zone: opt(z, "name") ?? z.name })));
    }
    const members = list(lan, "network");
    if (members.indexOf(iface) < 0) {
      m.set("firewall", lan.name, "network", [...members, iface]);
      m.set("wgmgr", iface, "zone_joined", "lan");
    }
    planAccess(m, iface);
    return;
  }
  if (joined !== undefined) leaveZone(m, iface, joined);
  const clash = zoneByName(m, iface);
  if (clash !== undefined && clash.name !== ownZone) {
    fail("ZONE_CONFLICT", T('A firewall zone named "{interface}" already exists and was not made by wgmgr.', { interface: iface }), "zone");
  }
  for (const z of zonesWithNetwork(m, iface)) {
    if (z.name !== ownZone) warnings.push(warning("OTHER_ZONE", T('{interface} is also in firewall zone "{zone}"; remove it there.', { interface: iface, zone: opt(z, "name") ?? z.name })));
  }
  m.create("firewall", ownZone, "zone");
  m.set("firewall", ownZone, "name", iface);
  m.set("firewall", ownZone, "network", [iface]);
  m.set("firewall", ownZone, "output", "ACCEPT");
  m.set("firewall", ownZone, "forward", "REJECT");
  // The LAN may reach the tunnel's devices; what the devices may reach (the forwardings to
  // lan and wan, or rules per device), and the zone's input, is access.ts's.
  const fromLan = owned.forwarding(iface, "lan", iface);
  if (zoneByName(m, "lan") === undefined) m.remove("firewall", fromLan);
  else {
    m.create("firewall", fromLan, "forwarding");
    m.set("firewall", fromLan, "src", "lan");
    m.set("firewall", fromLan, "dest", iface);
  }
  planAccess(m, iface);
}

function leaveZone(m: Model, iface: string, zoneName: string): void {
  const z = zoneByName(m, zoneName);
  if (z !== undefined) m.set("firewall", z.name, "network", list(z, "network").filter((n) => n !== iface));
  m.set("wgmgr", iface, "zone_joined", undefined);
}

/**
 * Masquerade for a side router (S4): traffic from the tunnel that leaves into the LAN
 * gets the router's LAN address as its source, so LAN hosts answer the router instead of
 * their own gateway, which knows nothing of the tunnel. One `config nat` of firewall4's
 * per family: `src` is the zone the traffic leaves through (fw4 puts it in srcnat_lan),
 * `src_ip` the tunnel subnet, and `dest_ip` not the tunnel, so device-to-device traffic
 * (which leaves through the lan zone too when wg0 is in it) keeps its addresses; a list
 * src_ip is refused by fw4, hence a section per family (test/firewall/FINDINGS.md a).
 */
export function planMasquerade(m: Model, iface: string, on: boolean): void {
  m.set("wgmgr", iface, "masquerade", on ? "1" : undefined);
  if (on && zoneByName(m, "lan") === undefined) fail("NO_LAN_ZONE", T('There is no firewall zone "lan" for the tunnel\'s traffic to be masqueraded into.'), "masquerade");
  const section = wgInterface(m, iface) as Section;
  for (const family of [4, 6] as const) {
    const name = owned.masquerade(iface, family);
    const net = tunnelSubnet(section, family);
    if (!on || net === undefined) {
      m.remove("firewall", name);
      continue;
    }
    m.create("firewall", name, "nat");
    m.set("firewall", name, "name", `wgmgr-${iface}-masquerade${family === 6 ? "6" : ""}`);
    m.set("firewall", name, "family", family === 4 ? "ipv4" : "ipv6");
    m.set("firewall", name, "src", "lan");
    m.set("firewall", name, "src_ip", formatCidr(net));
    m.set("firewall", name, "dest_ip", `!${formatCidr(net)}`);
    m.set("firewall", name, "proto", "all");
    m.set("firewall", name, "target", "MASQUERADE");
  }
}

// ---- teardown -----------------------------------------------------------------

export function planTeardown(m: Model, iface: string): void {
  requireInterface(m, iface);
  const joined = opt(m.section("wgmgr", iface), "zone_joined");
  if (joined !== undefined) leaveZone(m, iface, joined);
  for (const s of m.sections("firewall")) if (isOwnedBy(s.name, iface)) m.remove("firewall", s.name);
  for (const s of m.sections("network")) {
    if (s.type === peerType(iface) || isOwnedBy(s.name, iface)) m.remove("network", s.name);
  }
  m.remove("network", iface);
  for (const s of m.sections("wgmgr")) {
    if (s.name === iface || (s.type === "peer" && opt(s, "interface") === iface)) m.remove("wgmgr", s.name);
  }
}

// ---- peers --------------------------------------------------------------------

/** A peer's own tunnel addresses: the host prefixes (/32, /128) inside the tunnel subnets. */
export function hostAddresses(p: Section): Cidr[] {
  return peerAllowedIps(p).filter((c) => c.prefix === maxPrefix(c.addr.family));
}

export interface PeerRequest {
  iface: string;
  name?: string;
  address?: string;
  tunnel?: Tunnel;
  subnets?: string[];
  keepalive?: number;
  dns?: string[];
  disabled?: boolean;
  presharedKey?: string; // a new key
  removePresharedKey?: boolean;
  /** "lan", "internet", "router", or the destinations it may reach (access.ts). */
  access?: string | Destination[];
}

/** Section names stay stable across renames: "<iface>_<ascii name>" or "<iface>_peer<N>". */
function newPeerId(m: Model, iface: string, name: string): string {
  let slug = "";
  for (let i = 0; i < name.length && slug.length < 20; i++) {
    const c = name.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 122)) slug += name.charAt(i);
    else if (c >= 65 && c <= 90) slug += name.charAt(i).toLowerCase();
  }
  const taken = (id: string): boolean => m.section("network", id) !== undefined || m.section("wgmgr", id) !== undefined;
  if (slug !== "" && !taken(`${iface}_${slug}`)) return `${iface}_${slug}`;
  for (let n = 1; ; n++) if (!taken(`${iface}_peer${n}`)) return `${iface}_peer${n}`;
}

/** The next free host address in a tunnel subnet: one pass over the peers, one over the offsets. */
function allocateAddress(m: Model, iface: Section, net: Cidr, preferOffset?: number): Addr {
  const used = new LuaTable<number, boolean>();
  for (const c of interfaceAddresses(iface)) if (containsAddress(net, c.addr)) used.set(offsetIn(net, c.addr), true);
  for (const p of peersOf(m, iface.name)) {
    for (const h of hostAddresses(p)) if (containsAddress(net, h.addr)) used.set(offsetIn(net, h.addr), true);
  }
  const last = Math.min(sizeOf(net) - (net.addr.family === 4 ? 2 : 1), 1e6);
  if (preferOffset !== undefined && preferOffset >= 1 && preferOffset <= last && !used.get(preferOffset)) {
    return addressAt(net, preferOffset) as Addr;
  }
  for (let k = 1; k <= last; k++) if (!used.get(k)) return addressAt(net, k) as Addr;
  return fail("NO_FREE_ADDRESS", T("The tunnel subnet {subnet} has no free address left.", { subnet: formatCidr(net) }), "address");
}

export function peerLabel(p: Section): string {
  return opt(p, "description") ?? p.name;
}

/** Refuses a host address that is outside the tunnel, the router's, or another peer's. */
function checkHostAddress(iface: Section, text: string): Cidr {
  const c = parseCidr(text, true);
  if (c === undefined || c.prefix !== maxPrefix(c.addr.family)) {
    fail("INVALID_ADDRESS", T('"{text}" is not a single address: give the device\'s tunnel address, like 192.168.100.2.', { text }), "address");
  }
  const net = tunnelSubnet(iface, c.addr.family);
  if (net === undefined || !containsAddress(net, c.addr)) {
    fail(
      "INVALID_ADDRESS",
      net !== undefined
        ? T("{address} is outside the tunnel subnet {subnet}.", { address: formatAddress(c.addr), subnet: formatCidr(net) })
        : T("{address} is outside the tunnel subnet.", { address: formatAddress(c.addr) }),
      "address",
    );
  }
  if (sameAddress(c.addr, net.addr) || (c.addr.family === 4 && offsetIn(net, c.addr) === sizeOf(net) - 1)) {
    fail("INVALID_ADDRESS", T("{address} is the network or broadcast address of {subnet}.", { address: formatAddress(c.addr), subnet: formatCidr(net) }), "address");
  }
  for (const own of interfaceAddresses(iface)) {
    if (sameAddress(own.addr, c.addr)) fail("ADDRESS_IN_USE", T("{address} is the router's own tunnel address.", { address: formatAddress(c.addr) }), "address");
  }
  return c;
}

/**
 * Refuses subnets behind a peer that overlap the tunnel or the LAN (they are reached
 * directly, so routing them into the tunnel would break them).
 */
function checkPeerSubnets(m: Model, iface: Section, subnets: string[]): Cidr[] {
  const out: Cidr[] = [];
  const local = [...interfaceAddresses(iface).map((c) => networkOf(c)), ...lanSubnets(m)];
  for (const text of subnets) {
    const c = parseCidr(text, true) as Cidr;
    if (c.prefix === 0) {
      fail("INVALID_PREFIX", T("{text} would send all traffic to this one peer; list the networks behind it instead.", { text }), "subnets");
    }
    for (const l of local) {
      if (overlaps(l, c)) fail("OVERLAP", T("{subnet} overlaps {other}, which is on this router.", { subnet: formatCidr(c), other: formatCidr(l) }), "subnets");
    }
    out.push(c);
  }
  return out;
}

/** Two peers never share a range: WireGuard would silently keep only the last one. */
function checkNoOverlapWithPeers(m: Model, iface: string, ranges: Cidr[], self: Section | undefined, field: string): void {
  for (const p of peersOf(m, iface)) {
    if (p === self) continue;
    for (const theirs of peerAllowedIps(p)) {
      for (const mine of ranges) {
        if (overlaps(mine, theirs)) {
          const code = mine.prefix === maxPrefix(mine.addr.family) && theirs.prefix === mine.prefix ? "ADDRESS_IN_USE" : "OVERLAP";
          fail(
            code,
            T('{subnet} overlaps {other} of peer "{device}": WireGuard sends each address to one peer only.', { subnet: formatCidr(mine), other: formatCidr(theirs), device: peerLabel(p) }),
            field,
          );
        }
      }
    }
  }
}

export interface NewPeerKeys {
  publicKey: string;
  privateKey?: string; // only when generated and kept
  presharedKey?: string;
}

export function planAddPeer(m: Model, req: PeerRequest & { name: string }, keys: NewPeerKeys): Section {
  const iface = requireInterface(m, req.iface);
  checkNameIsFree(m, req.iface, req.name, undefined);
  for (const p of peersOf(m, req.iface)) {
    if (opt(p, "public_key") === keys.publicKey) {
      fail("ALREADY_EXISTS", T('Peer "{device}" already uses this public key.', { device: peerLabel(p) }), "public_key");
    }
  }
  const id = newPeerId(m, req.iface, req.name);
  const hosts = planHostAddresses(m, iface, req.address, undefined);
  const subnets = checkPeerSubnets(m, iface, req.subnets ?? []);
  checkNoOverlapWithPeers(m, req.iface, [...hosts, ...subnets], undefined, req.address !== undefined ? "address" : "subnets");

  const p = m.create("network", id, peerType(req.iface));
  m.set("network", id, "description", req.name);
  m.set("network", id, "public_key", keys.publicKey);
  m.set("network", id, "private_key", keys.privateKey);
  m.set("network", id, "preshared_key", keys.presharedKey);
  m.set("network", id, "allowed_ips", [...hosts, ...subnets].map((c) => formatCidr(c)));
  m.set("network", id, "route_allowed_ips", "1");
  m.set("network", id, "persistent_keepalive", req.keepalive ?? DEFAULT_KEEPALIVE);
  if (req.disabled) m.set("network", id, "disabled", "1");
  m.create("wgmgr", id, "peer");
  m.set("wgmgr", id, "interface", req.iface);
  planClientSide(m, id, req);
  planAccess(m, req.iface);
  return p;
}

/**
 * A name is a device's own: no other device has it (in any ASCII case), and it is not
 * another device's id or public key, which `peer` arguments would find first.
 */
function checkNameIsFree(m: Model, iface: string, name: string, self: Section | undefined): void {
  const key = foldCase(name);
  for (const p of peersOf(m, iface)) {
    if (p === self) continue;
    if (foldCase(opt(p, "description") ?? "") === key) fail("ALREADY_EXISTS", T('A device named "{device}" already exists on {interface}.', { device: peerLabel(p), interface: iface }), "name");
    if (foldCase(p.name) === key || opt(p, "public_key") === name) {
      fail("NAME_CONFLICT", T('"{name}" is the id or public key of device "{device}": give this device another name.', { name, device: peerLabel(p) }), "name");
    }
  }
}

/** The peer's tunnel addresses: the given one, or the next free (IPv6 mirrors the IPv4 host number). */
function planHostAddresses(m: Model, iface: Section, address: string | undefined, self: Section | undefined): Cidr[] {
  const net4 = tunnelSubnet(iface, 4);
  const net6 = tunnelSubnet(iface, 6);
  const host = (a: Addr): Cidr => ({ addr: a, prefix: maxPrefix(a.family) });
  const out: Cidr[] = [];
  if (address !== undefined) {
    const c = checkHostAddress(iface, address);
    out.push(c);
    const otherNet = c.addr.family === 4 ? net6 : net4;
    const current = self !== undefined ? hostAddresses(self).find((h) => h.addr.family !== c.addr.family) : undefined;
    if (current !== undefined) out.push(current);
    else if (otherNet !== undefined && c.addr.family === 4) out.push(host(allocateAddress(m, iface, otherNet, offsetIn(net4 as Cidr, c.addr))));
    return out;
  }
  const first = net4 ?? net6;
  if (first === undefined) fail("NO_TUNNEL_SUBNET", T("{interface} has no address with a subnet: run setup with an address like 192.168.100.1/24.", { interface: iface.name }), "interface");
  const a = allocateAddress(m, iface, first);
  out.push(host(a));
  if (net4 !== undefined && net6 !== undefined) out.push(host(allocateAddress(m, iface, net6, offsetIn(net4, a))));
  return out;
}

/** wgmgr's record of what the client side routes (full/split/custom) and its DNS. */
function planClientSide(m: Model, id: string, req: PeerRequest): void {
  if (req.tunnel !== undefined) {
    const custom = typeof req.tunnel !== "string";
    m.set("wgmgr", id, "tunnel", custom ? "custom" : (req.tunnel as string));
    m.set("wgmgr", id, "client_allowed_ips", custom ? (req.tunnel as string[]) : undefined);
  } else if (opt(m.section("wgmgr", id), "tunnel") === undefined) {
    m.set("wgmgr", id, "tunnel", "full");
  }
  if (req.dns !== undefined) m.set("wgmgr", id, "dns", req.dns);
  if (req.access !== undefined) {
    const { mode, to } = storedAccess(req.access);
    if (mode !== "lan" && opt(m.section("wgmgr", req.iface), "zone") !== "own") {
      fail(
        "ACCESS_NEEDS_OWN_ZONE",
        T('{interface} is in the LAN zone, where every device reaches the whole LAN: limiting a device needs a zone of its own. Move the tunnel with setup (zone "own"); devices keep their access.', { interface: req.iface }),
        "access",
      );
    }
    m.set("wgmgr", id, "access", mode === "lan" ? undefined : mode);
    m.set("wgmgr", id, "access_to", to);
  }
}

export function planUpdatePeer(m: Model, ref: string, req: PeerRequest): Section {
  const iface = requireInterface(m, req.iface);
  const p = requirePeer(m, req.iface, ref);
  const id = p.name;
  if (req.name !== undefined && req.name !== opt(p, "description")) {
    checkNameIsFree(m, req.iface, req.name, p);
    m.set("network", id, "description", req.name);
  }
  if (req.address !== undefined || req.subnets !== undefined) {
    const hosts = req.address !== undefined ? planHostAddresses(m, iface, req.address, p) : hostAddresses(p);
    const currentSubnets = peerAllowedIps(p).filter((c) => c.prefix !== maxPrefix(c.addr.family));
    const subnets = req.subnets !== undefined ? checkPeerSubnets(m, iface, req.subnets) : currentSubnets;
    checkNoOverlapWithPeers(m, req.iface, [...hosts, ...subnets], p, req.address !== undefined ? "address" : "subnets");
    const allowed = [...hosts, ...subnets].map((c) => formatCidr(c));
    if (allowed.length === 0) fail("NO_ALLOWED_IPS", T("A peer needs at least one address, or nothing is routed to it."), "address");
    m.set("network", id, "allowed_ips", allowed);
  }
  if (req.keepalive !== undefined) m.set("network", id, "persistent_keepalive", req.keepalive > 0 ? req.keepalive : undefined);
  if (req.disabled !== undefined) m.set("network", id, "disabled", req.disabled ? "1" : undefined);
  if (req.removePresharedKey) m.set("network", id, "preshared_key", undefined);
  else if (req.presharedKey !== undefined) m.set("network", id, "preshared_key", req.presharedKey);
  if (m.section("wgmgr", id) === undefined) {
    m.create("wgmgr", id, "peer");
    m.set("wgmgr", id, "interface", req.iface);
  }
  planClientSide(m, id, req);
  planAccess(m, req.iface);
  return p;
}

export function planRemovePeer(m: Model, iface: string, ref: string): Section {
  requireInterface(m, iface);
  // wgmgr's record of a device whose network section is gone (a removal cut short
  // between the two files; diagnose offers this): the record goes.
  const record = m.section("wgmgr", ref);
  if (findPeers(m, iface, ref).length === 0 && record !== undefined && record.type === "peer" && opt(record, "interface") === iface) {
    m.remove("wgmgr", ref);
    return record;
  }
  const p = requirePeer(m, iface, ref);
  m.remove("network", p.name);
  m.remove("wgmgr", p.name);
  planAccess(m, iface);
  return p;
}

/** The networks behind the interface's enabled devices (the sites), except `self`'s own. */
export function siteNetworks(m: Model, iface: string, self?: Section): Cidr[] {
  const all = m.derived(`sites:${iface}`, () => {
    const out: { peer: Section; net: Cidr }[] = [];
    for (const p of peersOf(m, iface)) {
      if (!isPeerEnabled(p)) continue;
      for (const c of peerAllowedIps(p)) if (c.prefix < maxPrefix(c.addr.family)) out.push({ peer: p, net: c });
    }
    return out;
  });
  return all.filter((s) => s.peer !== self).map((s) => s.net);
}

/**
 * A split tunnel's AllowedIPs: the tunnel subnets, the router's LAN networks and every
 * site's networks (the router routes between its devices), except the device's own.
 */
export function splitAllowedIps(m: Model, iface: Section, self?: Section): string[] {
  return [...interfaceAddresses(iface).map((c) => networkOf(c)), ...lanSubnets(m), ...siteNetworks(m, iface.name, self)].map((c) => formatCidr(c));
}

/** What the client routes through the tunnel. */
export function clientAllowedIps(m: Model, iface: Section, peer: Section): string[] {
  const meta = m.section("wgmgr", peer.name);
  const mode = opt(meta, "tunnel") ?? "full";
  if (mode === "custom") return list(meta, "client_allowed_ips");
  if (mode === "split") {
    // A device that may reach only part of the network routes only that part.
    const limited = accessNetworks(m, iface, peer);
    return limited !== undefined ? limited.map((c) => formatCidr(c)) : splitAllowedIps(m, iface, peer);
  }
  return ["0.0.0.0/0", "::/0"];
}

export function isPeerEnabled(p: Section): boolean {
  return !flag(p, "disabled");
}

// ---- routes -------------------------------------------------------------------

export interface RouteRequest {
  iface: string;
  target: string;
  gateway?: string;
  metric?: number;
  /** A route to 0.0.0.0/0 or ::/0 replaces the default route only when asked for. */
  replaceDefault?: boolean;
}

export function ownedRoutes(m: Model, iface: string): Section[] {
  return m.sections("network").filter((s) => (s.type === "route" || s.type === "route6") && isOwnedBy(s.name, iface));
}

export function planAddRoute(m: Model, req: RouteRequest, warnings: Warning[]): Section {
  const iface = requireInterface(m, req.iface);
  const target = networkOf(parseCidr(req.target, true) as Cidr);
  for (const r of ownedRoutes(m, req.iface)) {
    const t = parseCidr(opt(r, "target") ?? "", true);
    if (t !== undefined && overlaps(t, target) && t.prefix === target.prefix) {
      fail("ALREADY_EXISTS", T("{interface} already has a route to {target}.", { interface: req.iface, target: formatCidr(target) }), "target");
    }
  }
  if (target.prefix === 0) checkDefaultRoute(m, req);
  else if (req.replaceDefault) fail("INVALID_ARGUMENT", T("replace_default is for a route to {everything} only.", { everything: target.addr.family === 4 ? "0.0.0.0/0" : "::/0" }), "replace_default");
  // A network the router reaches directly would be cut off by a route into the tunnel.
  const local = [...otherNetworks(m), ...wgInterfaces(m).flatMap((w) => interfaceAddresses(w).map((c) => ({ name: w.name, net: networkOf(c) })))];
  for (const o of local) {
    if (target.prefix > 0 && overlaps(o.net, target)) {
      fail(
        "OVERLAP",
        T('{target} overlaps {other} of interface "{interface}", which the router reaches directly: a route into the tunnel would cut it off.', { target: formatCidr(target), other: formatCidr(o.net), interface: o.name }),
        "target",
      );
    }
  }
  if (req.gateway !== undefined) {
    const gw = parseAddress(req.gateway) as Addr;
    if (gw.family !== target.addr.family) {
      fail("INVALID_ADDRESS", T("The gateway {gateway} is not of the same IP version as {target}.", { gateway: req.gateway, target: formatCidr(target) }), "gateway");
    }
    const net = tunnelSubnet(iface, gw.family);
    if (net === undefined || !containsAddress(net, gw)) {
      fail(
        "INVALID_GATEWAY",
        net !== undefined
          ? T("The gateway {gateway} is not in {interface}'s tunnel subnet {subnet}: give a device's tunnel address, or no gateway.", { gateway: req.gateway, interface: req.iface, subnet: formatCidr(net) })
          : T("The gateway {gateway} is not in {interface}'s tunnel subnet: give a device's tunnel address, or no gateway.", { gateway: req.gateway, interface: req.iface }),
        "gateway",
      );
    }
  }
  for (const w of routeWarnings(m, req.iface, target)) warnings.push(w);
  let n = 1;
  while (m.section("network", owned.route(req.iface, n)) !== undefined) n++;
  const id = owned.route(req.iface, n);
  const r = m.create("network", id, target.addr.family === 4 ? "route" : "route6");
  m.set("network", id, "interface", req.iface);
  m.set("network", id, "target", formatCidr(target));
  m.set("network", id, "gateway", req.gateway);
  m.set("network", id, "metric", req.metric);
  return r;
}

/**
 * What is wrong with a route into the tunnel, today: WireGuard picks the peer by its
 * allowed IPs and ignores the gateway, so the route carries traffic only to a network
 * some peer's allowed IPs cover; and one a peer already routes is there twice.
 */
export function routeWarnings(m: Model, iface: string, target: Cidr): Warning[] {
  const warnings: Warning[] = [];
  let covered = false;
  for (const p of peersOf(m, iface)) {
    for (const a of peerAllowedIps(p)) {
      if (!overlaps(a, target)) continue;
      if (a.prefix <= target.prefix) covered = true;
      if (flag(p, "route_allowed_ips")) warnings.push(warning("ALREADY_ROUTED", T('Peer "{device}" already routes {subnet} on {interface}.', { device: peerLabel(p), subnet: formatCidr(a), interface: iface })));
    }
  }
  if (!covered) {
    warnings.push(
      warning(
        "NOT_COVERED",
        T('No peer of {interface} has {target} in its allowed IPs, so WireGuard will drop this traffic: add the network to the peer\'s "subnets".', { interface: iface, target: formatCidr(target) }),
      ),
    );
  }
  return warnings;
}

/**
 * A route that replaces the default route sends everything into the tunnel, the tunnel's
 * own packets too, unless netifd pins a host route to each peer's endpoint through the
 * WAN (it does for peers with an endpoint_host, unless nohostroute is set). Devices that
 * dial in have no endpoint the router knows, so such a route would cut them off.
 */
function checkDefaultRoute(m: Model, req: RouteRequest): void {
  const target = req.target;
  if (!req.replaceDefault) {
    fail("DEFAULT_ROUTE", T('A route to {target} replaces the router\'s default route: all of its traffic would go into the tunnel. Give "replace_default": true if that is what you want.', { target }), "target");
  }
  const iface = wgInterface(m, req.iface) as Section;
  const peers = peersOf(m, req.iface).filter((p) => isPeerEnabled(p));
  if (flag(iface, "nohostroute")) {
    fail(
      "ENDPOINT_UNREACHABLE",
      T("A route to {target} replaces the router's default route, and {interface} has nohostroute set: its endpoints would be routed into the tunnel.", { target, interface: req.iface }),
      "replace_default",
    );
  }
  if (peers.length === 0) {
    fail("ENDPOINT_UNREACHABLE", T("A route to {target} replaces the router's default route, but {interface} has no device to send it to.", { target, interface: req.iface }), "replace_default");
  }
  for (const p of peers) {
    if (opt(p, "endpoint_host") === undefined) {
      fail(
        "ENDPOINT_UNREACHABLE",
        T(
          'A route to {target} replaces the router\'s default route, but device "{device}" dials in and has no fixed endpoint: the router\'s answers to it would go into the tunnel. Only a tunnel that dials out to servers can carry the default route.',
          { target, device: peerLabel(p) },
        ),
        "replace_default",
      );
    }
  }
}

export function planRemoveRoute(m: Model, iface: string, ref: string): Section {
  requireInterface(m, iface);
  const target = parseCidr(ref, true);
  for (const r of ownedRoutes(m, iface)) {
    const t = parseCidr(opt(r, "target") ?? "", true);
    if (r.name === ref || (target !== undefined && t !== undefined && sameAddress(networkOf(t).addr, networkOf(target).addr) && t.prefix === target.prefix)) {
      m.remove("network", r.name);
      return r;
    }
  }
  return fail("NOT_FOUND", T('{interface} has no route "{route}" made by wgmgr.', { interface: iface, route: ref }), "route");
}

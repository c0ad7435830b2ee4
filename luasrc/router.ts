// What the UCI model says about the router: WireGuard interfaces, their peers, the
// tunnel and LAN subnets, firewall zones, and the names of the sections wgmgr owns.

import { Cidr, maxPrefix, networkOf, parseCidr } from "./common/ip";
import { foldCase } from "./common/validate";
import { Model, Section, list, opt } from "./model";

const PEER_TYPE_PREFIX = "wireguard_";
export const peerType = (iface: string): string => PEER_TYPE_PREFIX + iface;

/** The interface a peer section type belongs to ("wireguard_wg0" → "wg0"), if it is one. */
export function interfaceOfPeerType(type: string): string | undefined {
  return string.sub(type, 1, PEER_TYPE_PREFIX.length) === PEER_TYPE_PREFIX ? string.sub(type, PEER_TYPE_PREFIX.length + 1) : undefined;
}

/** Names of the sections wgmgr creates for an interface; the prefix marks ownership. */
export const owned = {
  prefix: (iface: string): string => `wgmgr_${iface}_`,
  handshakeRule: (iface: string): string => `wgmgr_${iface}_handshake`,
  zone: (iface: string): string => `wgmgr_${iface}_zone`,
  forwarding: (iface: string, src: string, dest: string): string =>
    src === iface ? `wgmgr_${iface}_to_${dest}` : `wgmgr_${iface}_from_${src}`,
  route: (iface: string, n: number): string => `wgmgr_${iface}_route${n}`,
  masquerade: (iface: string, family: 4 | 6): string => `wgmgr_${iface}_masq${family === 6 ? "6" : ""}`,
  hub: (iface: string): string => `wgmgr_${iface}_hub`,
  reject: (iface: string): string => `wgmgr_${iface}_reject`,
};

export function isOwnedBy(section: string, iface: string): boolean {
  const p = owned.prefix(iface);
  return string.sub(section, 1, p.length) === p;
}

export function wgInterfaces(m: Model): Section[] {
  return m.sections("network", "interface").filter((s) => opt(s, "proto") === "wireguard");
}

export function wgInterface(m: Model, iface: string): Section | undefined {
  const s = m.section("network", iface);
  return s !== undefined && s.type === "interface" && opt(s, "proto") === "wireguard" ? s : undefined;
}

/**
 * "client" for an interface that dials out to a relay (made by import, or with a peer
 * whose endpoint it knows), "server" for one that devices dial into.
 */
export function interfaceRole(m: Model, iface: string): "server" | "client" {
  const role = opt(m.section("wgmgr", iface), "role");
  if (role === "client" || role === "server") return role;
  return peersOf(m, iface).some((p) => opt(p, "endpoint_host") !== undefined) ? "client" : "server";
}

export function peersOf(m: Model, iface: string): Section[] {
  return m.sections("network", peerType(iface));
}

/**
 * The peers a reference names, most specific first: its id (section name); else its name
 * exactly; else its name in any ASCII case; else its public key. Names cannot equal
 * another peer's id or key (plan.ts), so an id never finds a peer by its name; more than
 * one result means names that differ only in case, from before that rule.
 */
export function findPeers(m: Model, iface: string, ref: string): Section[] {
  const peers = peersOf(m, iface);
  const byId = peers.filter((p) => p.name === ref);
  if (byId.length > 0) return byId;
  const exact = peers.filter((p) => opt(p, "description") === ref);
  if (exact.length > 0) return exact;
  const key = foldCase(ref);
  const folded = peers.filter((p) => foldCase(opt(p, "description") ?? "") === key);
  if (folded.length > 0) return folded;
  return peers.filter((p) => opt(p, "public_key") === ref);
}

/** The interface's own addresses with their prefixes ("192.168.100.1/24"). */
export function interfaceAddresses(iface: Section): Cidr[] {
  const out: Cidr[] = [];
  for (const a of list(iface, "addresses")) {
    const c = parseCidr(a, true);
    if (c !== undefined) out.push(c);
  }
  return out;
}

export function tunnelSubnet(iface: Section, family: 4 | 6): Cidr | undefined {
  for (const c of interfaceAddresses(iface)) if (c.addr.family === family) return networkOf(c);
  return undefined;
}

/** Every prefix a peer routes (its allowed_ips), parsed; unparsable entries are skipped. */
export function peerAllowedIps(p: Section): Cidr[] {
  const out: Cidr[] = [];
  for (const a of list(p, "allowed_ips")) {
    const c = parseCidr(a, true);
    if (c !== undefined) out.push(c);
  }
  return out;
}

export function zoneByName(m: Model, name: string): Section | undefined {
  for (const z of m.sections("firewall", "zone")) if (opt(z, "name") === name) return z;
  return undefined;
}

export function zonesWithNetwork(m: Model, network: string): Section[] {
  return m.sections("firewall", "zone").filter((z) => list(z, "network").indexOf(network) >= 0);
}

/**
 * Networks of a static interface: ipaddr as CIDR or with netmask (possibly a list), and
 * static ip6addr entries. (A prefix netifd delegates through ip6assign is only known at
 * run time, so it is not listed.)
 */
function staticNetworks(s: Section): Cidr[] {
  if (opt(s, "proto") !== "static") return [];
  const out: Cidr[] = [];
  const mask = opt(s, "netmask");
  for (const a of list(s, "ipaddr")) {
    let c = parseCidr(a, false);
    if (c === undefined && mask !== undefined) c = parseCidr(`${a}/${netmaskToPrefix(mask)}`, false);
    if (c === undefined) c = parseCidr(a, true);
    if (c !== undefined && c.addr.family === 4) out.push(c);
  }
  for (const a of list(s, "ip6addr")) {
    const c = parseCidr(a, true);
    if (c !== undefined && c.addr.family === 6) out.push(c);
  }
  return out;
}

export function netmaskToPrefix(mask: string): number {
  const c = parseCidr(`${mask}/32`, false);
  if (c === undefined) return 32;
  let prefix = 0;
  for (const w of c.addr.words) {
    let v = w;
    for (let bit = 0; bit < 16; bit++) {
      if (v >= 32768) prefix++;
      v = (v % 32768) * 2;
    }
  }
  return prefix;
}

/** The router's address on each LAN: static interfaces in the "lan" zone (or the "lan" interface). */
export function lanAddresses(m: Model): Cidr[] {
  const zone = zoneByName(m, "lan");
  const names = zone !== undefined ? list(zone, "network") : ["lan"];
  const out: Cidr[] = [];
  for (const name of names) {
    const s = m.section("network", name);
    if (s !== undefined && s.type === "interface" && opt(s, "proto") !== "wireguard") {
      for (const c of staticNetworks(s)) out.push(c);
    }
  }
  return out;
}

export function lanSubnets(m: Model): Cidr[] {
  return lanAddresses(m).map((c) => networkOf(c));
}

/** Every static network configured on a non-WireGuard interface (for conflict checks). */
export function otherNetworks(m: Model): { name: string; net: Cidr }[] {
  const out: { name: string; net: Cidr }[] = [];
  for (const s of m.sections("network", "interface")) {
    if (opt(s, "proto") === "wireguard") continue;
    for (const c of staticNetworks(s)) if (c.prefix < maxPrefix(c.addr.family)) out.push({ name: s.name, net: networkOf(c) });
  }
  return out;
}

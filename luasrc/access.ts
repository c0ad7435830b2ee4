// Who may reach what (S6): each device's access, enforced by firewall4 through rules wgmgr
// owns and names wgmgr_<if>_<device>_…, matched by the device's tunnel addresses. Pure, like
// plan.ts. The rules are what test/firewall/FINDINGS.md (b) found firewall4 to need:
// - per-device policy needs the interface in its own zone; then the zone-wide forwardings
//   to lan and wan go (a forwarding accepts everything, after every rule), the zone's input
//   becomes REJECT, and a last rule rejects whatever the devices' rules did not accept
//   (the defaults' forward policy may be ACCEPT);
// - a rule's proto defaults to "tcp udp": rules for everything say proto all, and ports go
//   only with tcp or udp (fw4 silently drops a port match from proto all).
// With every device at "lan" (the default) nothing per device is written: the zone's
// forwardings and its hub rule give what the lan zone gives.

import { Cidr, containsAddress, formatCidr, maxPrefix, networkOf, parseAddress, sameAddress } from "./common/ip";
import { Destination, formatDestination, parseDestination } from "./common/validate";
import { Model, Section, list, opt } from "./model";
import { interfaceAddresses, lanAddresses, lanSubnets, owned, peerAllowedIps, peersOf, wgInterface, zoneByName } from "./router";

export type AccessMode = "lan" | "internet" | "router" | "custom";

export interface PeerAccess {
  mode: AccessMode;
  to: Destination[];
}

/** A device's access, from wgmgr's record of it ("lan" when there is none). */
export function accessOf(m: Model, peer: Section): PeerAccess {
  const meta = m.section("wgmgr", peer.name);
  const mode = (opt(meta, "access") ?? "lan") as AccessMode;
  const to: Destination[] = [];
  for (const text of list(meta, "access_to")) {
    const d = parseDestination(text);
    if ("net" in d) to.push(d);
  }
  return { mode, to };
}

/** "Home network", "Internet only", "Only 10.0.0.5:445/tcp" (the Devices list shows the same). */
export function describeAccess(a: PeerAccess): string {
  if (a.mode === "internet") return "Internet only";
  if (a.mode === "router") return "Only the router";
  if (a.mode === "custom") return `Only ${a.to.map((d) => formatDestination(d)).join(", ")}`;
  return "Home network and Internet";
}

function isEnabled(p: Section): boolean {
  return opt(p, "disabled") !== "1";
}

/** True when some enabled device of the interface has less than "lan": firewall4 must then decide per device. */
export function needsPolicy(m: Model, iface: string): boolean {
  return peersOf(m, iface).some((p) => isEnabled(p) && accessOf(m, p).mode !== "lan");
}

/**
 * The devices rules are written for: enabled, with tunnel addresses, and known to wgmgr.
 * A device without wgmgr's record (made elsewhere, or a change cut short) gets no rule,
 * so under per-device policy it reaches nothing until its access is set.
 */
function governed(m: Model, p: Section): boolean {
  return isEnabled(p) && deviceAddresses(p).length > 0 && m.section("wgmgr", p.name) !== undefined;
}

/** The device's own tunnel addresses (its /32 and /128), the source its rules match. */
function deviceAddresses(p: Section): Cidr[] {
  return peerAllowedIps(p).filter((c) => c.prefix === maxPrefix(c.addr.family));
}

/** True when the device's DNS server is this router (its LAN or tunnel address). */
function dnsOnRouter(m: Model, iface: Section, p: Section): boolean {
  const own = [...lanAddresses(m), ...interfaceAddresses(iface)];
  const dns = list(m.section("wgmgr", p.name), "dns");
  const servers = dns.length > 0 ? dns : list(m.section("wgmgr", iface.name), "dns");
  return servers.some((s) => {
    const a = parseAddress(s);
    return a !== undefined && own.some((c) => sameAddress(c.addr, a));
  });
}

/** The zone a destination is in, as firewall4 sees it: the LAN, the tunnel itself, else the WAN. */
function zoneOf(m: Model, iface: Section, net: Cidr): string {
  if (lanSubnets(m).some((l) => containsAddress(l, net.addr))) return "lan";
  if (interfaceAddresses(iface).some((c) => containsAddress(networkOf(c), net.addr))) return iface.name;
  return "wan";
}

type Options = Record<string, string | string[]>;

/** The rules one device gets, in order: [name suffix, options]. */
function deviceRules(m: Model, iface: Section, p: Section): [string, Options][] {
  const ifn = iface.name;
  const src: Options = { src: ifn, src_ip: deviceAddresses(p).map((c) => formatCidr(c)) };
  const accept = (o: Options): Options => ({ ...src, ...o, target: "ACCEPT" });
  const dns: [string, Options][] = dnsOnRouter(m, iface, p) ? [["dns", accept({ proto: "tcp udp", dest_port: "53" })]] : [];
  const a = accessOf(m, p);
  if (a.mode === "lan") {
    return [
      ["in", accept({ proto: "all" })],
      ["lan", accept({ dest: "lan", proto: "all" })],
      ["wan", accept({ dest: "wan", proto: "all" })],
      ["hub", accept({ dest: ifn, proto: "all" })],
    ];
  }
  if (a.mode === "internet") return [...dns, ["wan", accept({ dest: "wan", proto: "all" })]];
  if (a.mode === "router") return [...dns, ["icmp", accept({ proto: "icmp" })]];
  return [
    ...dns,
    ...a.to.map((d, i): [string, Options] => {
      const o: Options = { dest: zoneOf(m, iface, d.net), dest_ip: formatCidr(d.net) };
      if (d.ports.length > 0) {
        o.proto = d.proto ?? "tcp udp";
        o.dest_port = d.ports;
      } else o.proto = d.proto ?? "all";
      return [`to${i + 1}`, accept(o)];
    }),
  ];
}

/** The suffix of a device's rule names: its id without the interface ("wg0_iphone" → "iphone"). */
const deviceKey = (iface: string, p: Section): string => (string.sub(p.name, 1, iface.length + 1) === `${iface}_` ? string.sub(p.name, iface.length + 2) : p.name);

/**
 * The firewall sections access needs on an interface in its own zone, in order: either the
 * zone-wide ones (every device at "lan"), or each enabled device's rules and the last
 * reject. Sections are [name, type, options].
 */
function wanted(m: Model, iface: Section): [string, string, Options][] {
  const ifn = iface.name;
  const out: [string, string, Options][] = [];
  if (!needsPolicy(m, ifn)) {
    for (const dest of ["lan", "wan"]) {
      if (zoneByName(m, dest) !== undefined) out.push([owned.forwarding(ifn, ifn, dest), "forwarding", { src: ifn, dest }]);
    }
    out.push([owned.hub(ifn), "rule", { name: `wgmgr-${ifn}-hub`, src: ifn, dest: ifn, proto: "all", target: "ACCEPT" }]);
    return out;
  }
  for (const p of peersOf(m, ifn)) {
    if (!governed(m, p)) continue;
    const key = deviceKey(ifn, p);
    for (const [suffix, o] of deviceRules(m, iface, p)) {
      if (o.dest !== undefined && o.dest !== ifn && zoneByName(m, o.dest as string) === undefined) continue;
      out.push([`wgmgr_${ifn}_${key}_${suffix}`, "rule", { name: `wgmgr-${ifn}-${key}-${suffix}`, ...o }]);
    }
  }
  out.push([owned.reject(ifn), "rule", { name: `wgmgr-${ifn}-reject`, src: ifn, dest: "*", proto: "all", target: "REJECT" }]);
  return out;
}

/** The access sections wgmgr has on the interface now, in file order (all but the zone and the handshake rule). */
function current(m: Model, ifn: string): Section[] {
  const prefix = owned.prefix(ifn);
  return m
    .sections("firewall")
    .filter(
      (s) =>
        string.sub(s.name, 1, prefix.length) === prefix &&
        (s.type === "rule" || (s.type === "forwarding" && s.name !== owned.forwarding(ifn, "lan", ifn))) &&
        s.name !== owned.handshakeRule(ifn),
    );
}

function same(s: Section, name: string, type: string, o: Options): boolean {
  if (s.name !== name || s.type !== type) return false;
  const keys: string[] = [];
  for (const [k] of pairs(s.options)) if (string.sub(k as string, 1, 1) !== ".") keys.push(k as string);
  let n = 0;
  for (const [k, v] of pairs(o)) {
    n++;
    const mine = s.options[k as string];
    const a = typeof v === "string" ? [v] : (v as string[]);
    const b = mine === undefined ? [] : typeof mine === "string" ? [mine] : mine;
    if (a.join("\n") !== b.join("\n")) return false;
  }
  return keys.length === n;
}

/** True when the interface's access sections are what its devices' access asks for. */
export function accessInPlace(m: Model, ifn: string): boolean {
  const iface = wgInterface(m, ifn);
  const own = iface !== undefined && m.section("firewall", owned.zone(ifn)) !== undefined;
  const want = own ? wanted(m, iface) : [];
  const have = current(m, ifn);
  return have.length === want.length && have.every((s, i) => same(s, want[i][0], want[i][1], want[i][2]));
}

/**
 * Brings the interface's access sections to what its devices' access asks for. Rules are
 * evaluated in file order, so on any change they are all written again, the reject last.
 * Nothing is written when they already are what they should be, or when the interface is
 * not in a zone of its own (the lan zone lets every device reach everything).
 */
export function planAccess(m: Model, ifn: string): void {
  const iface = wgInterface(m, ifn);
  const own = iface !== undefined && m.section("firewall", owned.zone(ifn)) !== undefined;
  if (!accessInPlace(m, ifn)) {
    for (const s of current(m, ifn)) m.remove("firewall", s.name);
    for (const [name, type, o] of own ? wanted(m, iface) : []) {
      m.create("firewall", name, type);
      for (const [k, v] of pairs(o)) m.set("firewall", name, k as string, v as string | string[]);
    }
  }
  if (own) m.set("firewall", owned.zone(ifn), "input", needsPolicy(m, ifn) ? "REJECT" : "ACCEPT");
}

/** Networks a device's split tunnel carries when its access is limited (undefined: all of them). */
export function accessNetworks(m: Model, iface: Section, p: Section): Cidr[] | undefined {
  const a = accessOf(m, p);
  if (a.mode === "lan") return undefined;
  const tunnel = interfaceAddresses(iface).map((c) => networkOf(c));
  if (a.mode === "custom") return [...tunnel, ...a.to.map((d) => d.net)];
  return tunnel;
}

/** The stored form of a request's access: mode and destinations as text. */
export function storedAccess(access: string | Destination[]): { mode: AccessMode; to: string[] } {
  if (typeof access === "string") return { mode: access as AccessMode, to: [] };
  return { mode: "custom", to: access.map((d) => formatDestination(d)) };
}

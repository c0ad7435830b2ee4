// Planning `import`: a wg-quick file a relay, a VPS or a VPN provider handed out becomes
// an interface that dials out (role "client"), with the same zone handling as a server.
// Pure, like plan.ts: model + parsed file + choices → edits and notes.

import { Cidr, formatCidr, maxPrefix, networkOf, overlaps, parseAddress, parseCidr } from "./common/ip";
import { T, Text } from "./common/text";
import { QuickConfig, isFullTunnel } from "./common/wgquick";
import { fail, warning, Warning } from "./errors";
import { Model } from "./model";
import { DEFAULT_KEEPALIVE, ZoneMode, checkTunnelSubnetIsFree, planHandshakeRule, planZone } from "./plan";
import { interfaceAddresses, lanSubnets, otherNetworks, owned, peerAllowedIps, peerType, peersOf, wgInterfaces } from "./router";

/**
 * What a full-tunnel file (AllowedIPs 0.0.0.0/0 or ::/0) does on the router:
 * - "keep": the router and its LAN keep using the WAN for the Internet; only the file's
 *   other networks go through the relay (netifd drops the /0 route: defaultroute 0);
 * - "tunnel": everything from the router and its LAN goes through the relay, as two /1
 *   routes that win over the WAN's default route without replacing it, so the /32 host
 *   route netifd pins to the relay's endpoint (through the WAN) still carries the
 *   tunnel's own packets; the tunnel zone masquerades, as the WAN zone does, since the
 *   far side knows only the router's tunnel address.
 */
export type DefaultRoute = "keep" | "tunnel";

export interface ImportRequest {
  iface: string;
  file: QuickConfig;
  zone: ZoneMode;
  /** The name of a peer the file does not name. */
  name?: string;
  defaultRoute?: DefaultRoute;
}

/** A problem at a line of the file (its text says "Line {line}"): the error's field is "config:<line>". */
function failAt(line: number, code: string, text: Text): never {
  return fail(code, text, `config:${line}`);
}

/** The halves that, together, cover a family's every address, without being a default route. */
const HALVES: Record<4 | 6, string[]> = { 4: ["0.0.0.0/1", "128.0.0.0/1"], 6: ["::/1", "8000::/1"] };

export function planImport(m: Model, req: ImportRequest, warnings: Warning[]): void {
  const { iface, file } = req;
  const full = isFullTunnel(file);
  if (full && req.defaultRoute === undefined) {
    fail(
      "CHOICE_REQUIRED",
      T(
        'This file sends all traffic through the relay (AllowedIPs 0.0.0.0/0). Choose "default_route": "keep" (only its other networks go through the relay) or "tunnel" (all traffic of the router and its LAN goes through it).',
      ),
      "default_route",
    );
  }
  if (req.defaultRoute === "tunnel" && req.zone !== "own") {
    fail("INVALID_ARGUMENT", T('Sending all traffic through the relay needs a zone of its own ("zone": "own"), which masquerades like the WAN zone.'), "zone");
  }

  // The tunnel's own addresses: their networks must be free on this router.
  for (const a of file.addresses) {
    if (a.value.prefix < maxPrefix(a.value.addr.family)) {
      const net = networkOf(a.value);
      for (const o of otherNetworks(m)) {
        if (overlaps(o.net, net)) failAt(
            a.line,
            "SUBNET_CONFLICT",
            T('Line {line}: the tunnel\'s {subnet} overlaps {other} of interface "{interface}".', { line: a.line, subnet: formatCidr(net), other: formatCidr(o.net), interface: o.name }),
          );
      }
      checkTunnelSubnetIsFree(m, iface, net, `config:${a.line}`);
    }
  }
  // Networks reached through the relay: never the router's own LAN, never another tunnel's.
  const local = [...lanSubnets(m), ...wgInterfaces(m).flatMap((w) => interfaceAddresses(w).map((c) => networkOf(c)))];
  const seen: { net: Cidr; line: number }[] = [];
  for (const p of file.peers) {
    for (const a of p.allowedIps) {
      if (a.value.prefix === 0) continue;
      for (const l of local) {
        if (overlaps(l, a.value)) failAt(a.line, "OVERLAP", T("Line {line}: {subnet} overlaps {other}, which this router reaches directly.", { line: a.line, subnet: formatCidr(a.value), other: formatCidr(l) }));
      }
      for (const other of wgInterfaces(m)) {
        for (const q of peersOf(m, other.name)) {
          for (const c of peerAllowedIps(q)) {
            if (c.prefix > 0 && overlaps(c, a.value)) failAt(
                a.line,
                "OVERLAP",
                T("Line {line}: {subnet} is already routed to a device of {interface} ({other}).", { line: a.line, subnet: formatCidr(a.value), interface: other.name, other: formatCidr(c) }),
              );
          }
        }
      }
      for (const s of seen) {
        if (overlaps(s.net, a.value)) failAt(
            a.line,
            "OVERLAP",
            T("Line {line}: {subnet} overlaps {other} of line {other_line}: WireGuard sends each address to one peer only.", {
              line: a.line,
              subnet: formatCidr(a.value),
              other: formatCidr(s.net),
              other_line: s.line,
            }),
          );
      }
      seen.push({ net: a.value, line: a.line });
    }
  }

  m.create("network", iface, "interface");
  m.set("network", iface, "proto", "wireguard");
  m.set("network", iface, "private_key", file.privateKey!.value);
  m.set("network", iface, "addresses", file.addresses.map((a) => formatCidr(a.value)));
  m.set("network", iface, "mtu", file.mtu);
  m.set("network", iface, "listen_port", file.listenPort);
  m.set("network", iface, "fwmark", file.fwmark);
  // Keep the /0 out of the main routing table in both modes (see DefaultRoute).
  m.set("network", iface, "defaultroute", full ? "0" : undefined);

  file.peers.forEach((p, i) => {
    const id = `${iface}_${i === 0 ? "relay" : `relay${i + 1}`}`;
    m.create("network", id, peerType(iface));
    // The name the user gave wins over the file's comment.
    m.set("network", id, "description", (i === 0 ? req.name : undefined) ?? p.name ?? `relay ${i + 1}`);
    m.set("network", id, "public_key", p.publicKey!.value);
    m.set("network", id, "preshared_key", p.presharedKey?.value);
    m.set("network", id, "allowed_ips", p.allowedIps.map((a) => formatCidr(a.value)));
    m.set("network", id, "route_allowed_ips", "1");
    if (p.endpoint !== undefined) {
      m.set("network", id, "endpoint_host", p.endpoint.value.host);
      m.set("network", id, "endpoint_port", p.endpoint.value.port);
    }
    // A relay is reached through NAT most of the time: keep the path open unless the file says otherwise.
    const keepalive = p.keepalive ?? (p.endpoint !== undefined ? DEFAULT_KEEPALIVE : 0);
    m.set("network", id, "persistent_keepalive", keepalive > 0 ? keepalive : undefined);
    m.create("wgmgr", id, "peer");
    m.set("wgmgr", id, "interface", iface);
  });

  if (req.defaultRoute === "tunnel") {
    const families: Record<number, boolean> = {};
    for (const p of file.peers) for (const a of p.allowedIps) if (a.value.prefix === 0) families[a.value.addr.family] = true;
    let n = 1;
    for (const family of [4, 6] as const) {
      if (!families[family]) continue;
      for (const target of HALVES[family]) {
        const id = owned.route(iface, n++);
        m.create("network", id, family === 4 ? "route" : "route6");
        m.set("network", id, "interface", iface);
        m.set("network", id, "target", formatCidr(parseCidr(target, false) as Cidr));
      }
    }
  }

  m.create("wgmgr", iface, "interface");
  m.set("wgmgr", iface, "role", "client");
  m.set("wgmgr", iface, "default_route", full ? req.defaultRoute : undefined);
  m.set("wgmgr", iface, "dns", file.dns);
  if (file.dns.length > 0) {
    warnings.push(warning("DNS_NOT_USED", T("The file's DNS ({dns}) is kept for reference; the router's own resolver is not changed by the tunnel.", { dns: file.dns.join(", ") })));
  }
  for (const note of file.notes) warnings.push(warning("LINE_IGNORED", note.value));

  // The handshake comes in from the WAN only when the file says the tunnel listens.
  if (file.listenPort !== undefined) planHandshakeRule(m, iface, file.listenPort, warnings);
  planZone(m, iface, req.zone, warnings);
  if (req.defaultRoute === "tunnel") m.set("firewall", owned.zone(iface), "masq", "1");
  for (const p of file.peers) {
    if (p.endpoint === undefined) warnings.push(warning("NO_ENDPOINT", T("The peer at line {line} has no Endpoint: this router cannot dial it, it has to connect first.", { line: p.line })));
    else if (parseAddress(p.endpoint.value.host) === undefined && (p.keepalive ?? DEFAULT_KEEPALIVE) === 0) {
      warnings.push(warning("NO_KEEPALIVE", T("The relay {host} is a name but has no keepalive: the watchdog that follows its address needs one.", { host: p.endpoint.value.host })));
    }
  }
}

// `diagnose`: what is wrong with a WireGuard interface, why it matters, and the fix (a call
// of another method with its arguments, so a fix is staged and applied like any change).
// Each check is a pure function of the UCI model and the few facts of the running system
// it needs (Facts), gathered by the method with no more forks than status plus the
// endpoint check's. Fixes reuse the methods that write those sections; none writes here.

import { Cidr, formatAddress, formatCidr, networkOf, nonPublicRange, overlaps, parseAddress, parseCidr } from "./common/ip";
import { T, Text } from "./common/text";
import { LiveInterface } from "./live";
import { Model, Section, flag, list, num, opt } from "./model";
import { accessInPlace, accessOf, needsPolicy } from "./access";
import { DEFAULT_PORT, isPeerEnabled, peerLabel } from "./plan";
import {
  interfaceAddresses,
  interfaceRole,
  lanAddresses,
  lanSubnets,
  otherNetworks,
  owned,
  peerAllowedIps,
  peersOf,
  wgInterfaces,
  zoneByName,
  zonesWithNetwork,
} from "./router";

export interface Fix {
  method: string;
  args: Record<string, unknown>;
}

export interface Finding extends Text {
  id: string;
  severity: "error" | "warning" | "info";
  field?: string;
  fix?: Fix;
}

/** What the checks need to know of the running system. */
export interface Facts {
  live?: LiveInterface;
  inSync?: boolean;
  wgAvailable: boolean;
  /** The kernel's WireGuard module is loaded (kmod-wireguard). */
  kmod: boolean;
  /** The WAN's IPv4 address, and whether the WAN has IPv6 (for an IPv6 endpoint). */
  wan?: string;
  wanIpv6: boolean;
  /** Addresses of the endpoint name (DNS), when it is a name. */
  resolved?: string[];
  /** The LAN's DHCP server is off (a sign of a side router). */
  dhcpOffOnLan: boolean;
  now: number;
}

/** A device that never completed a handshake, or none for this long, is worth a word. */
const QUIET_SECONDS = 7 * 86400;

/** LAN subnets that homes and offices use most: a device often sits in one of them. */
const COMMON_LANS = ["192.168.0.0/24", "192.168.1.0/24", "192.168.2.0/24", "192.168.8.0/24", "192.168.31.0/24", "192.168.50.0/24", "192.168.88.0/24", "10.0.0.0/24", "10.0.1.0/24", "10.1.1.0/24", "172.16.0.0/24"];

/** The private block around a LAN (192.168.0.0/16, 172.16.0.0/12, 10.0.0.0/8), for S5's wider prefix. */
function widerPrefix(lan: Cidr): Cidr | undefined {
  for (const block of ["192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/8"]) {
    const b = parseCidr(block, false) as Cidr;
    if (overlaps(b, lan) && b.prefix < lan.prefix) return b;
  }
  return undefined;
}

export function diagnose(m: Model, iface: Section, f: Facts): Finding[] {
  const out: Finding[] = [];
  const ifn = iface.name;
  const add = (id: string, severity: Finding["severity"], text: Text, fix?: Fix, field?: string): void => {
    out.push({ id, severity, ...text, fix, field });
  };
  const server = interfaceRole(m, ifn) === "server";
  const meta = m.section("wgmgr", ifn);
  const enabled = peersOf(m, ifn).filter((p) => isPeerEnabled(p));

  // ---- running ----
  if (!f.wgAvailable) add("wg_missing", "error", T("The wg command is missing, so nothing can be checked or applied live: install the package wireguard-tools."));
  if (f.live === undefined && opt(iface, "disabled") !== "1") {
    if (!f.kmod) add("kmod_missing", "error", T("The kernel's WireGuard module is not loaded: install kmod-wireguard (it must match the router's kernel), then reboot or load it."));
    else add("not_running", "error", T("{interface} is configured but not running: devices cannot connect. Starting it lets netifd bring it up from its configuration.", { interface: ifn }), { method: "sync", args: { interface: ifn } });
  } else if (f.live !== undefined && f.inSync === false) {
    add("out_of_sync", "warning", T(
        "The running {interface} has other devices than its saved configuration (a change applied elsewhere): some devices may be refused or still let in. Updating the running tunnel keeps the other devices' sessions.",
        { interface: ifn },
      ), { method: "sync", args: { interface: ifn } });
  }

  // ---- the handshake's way in ----
  const port = num(iface, "listen_port");
  if (server && port !== undefined && zoneByName(m, "wan") !== undefined) {
    const rule = m.section("firewall", owned.handshakeRule(ifn));
    const recreate: Fix = { method: "setup", args: { interface: ifn } };
    if (rule === undefined) {
      add("handshake_rule_missing", "error", T("No firewall rule lets WireGuard's handshake in from the Internet on UDP port {port}: no device can connect from outside. The fix adds the rule again.", { port }), recreate);
    } else if (opt(rule, "enabled") === "0") {
      add("handshake_rule_disabled", "error", T("The firewall rule for WireGuard's handshake (UDP {port} from the WAN) is disabled: no device can connect from outside. The fix turns it on again.", { port }), recreate);
    } else if (opt(rule, "dest_port") !== tostring(port) || (opt(rule, "proto") !== "udp" && opt(rule, "proto") !== "all") || opt(rule, "src") !== "wan" || opt(rule, "target") !== "ACCEPT") {
      add("handshake_rule_wrong", "error", T("The firewall rule for WireGuard's handshake does not accept UDP port {port} from the WAN (it says {rule}): devices cannot connect. The fix writes it as it should be.", {
          port,
          rule: `${opt(rule, "proto") ?? "tcp udp"} ${opt(rule, "dest_port") ?? "any port"} ${opt(rule, "target") ?? ""}`,
        }), recreate);
    } else {
      const shadow = shadowingRule(m, rule, port);
      if (shadow !== undefined) {
        add("handshake_rule_shadowed", "error", opt(shadow, "target") === "DROP"
            ? T('The firewall rule "{rule}" comes first and drops UDP port {port} from the WAN, so WireGuard\'s handshake never reaches the rule that accepts it. Move or remove that rule (Network → Firewall → Traffic Rules).', { rule: opt(shadow, "name") ?? shadow.name, port })
            : T('The firewall rule "{rule}" comes first and rejects UDP port {port} from the WAN, so WireGuard\'s handshake never reaches the rule that accepts it. Move or remove that rule (Network → Firewall → Traffic Rules).', { rule: opt(shadow, "name") ?? shadow.name, port }));
      }
    }
  }

  // ---- the zone ----
  const zones = zonesWithNetwork(m, ifn);
  if (zones.length === 0) {
    add("no_zone", "error", T("{interface} is in no firewall zone: its traffic falls to the default policy and devices reach nothing. The fix puts it in the LAN zone.", { interface: ifn }), { method: "setup", args: { interface: ifn, zone: "lan" } });
  } else if (m.section("firewall", owned.zone(ifn)) !== undefined && !needsPolicy(m, ifn) && zoneByName(m, "lan") !== undefined && m.section("firewall", owned.forwarding(ifn, ifn, "lan")) === undefined) {
    add("zone_no_lan", "error", T("{interface}'s zone may not reach the LAN, but its devices are meant to: they reach nothing at home. The fix restores the forwarding.", { interface: ifn }), { method: "setup", args: { interface: ifn, zone: "own" } });
  }

  // ---- where devices find the router ----
  if (server) {
    const host = opt(meta, "endpoint_host");
    const hostAddr = host !== undefined ? parseAddress(host) : undefined;
    const wanAddr = f.wan !== undefined ? parseAddress(f.wan) : undefined;
    if (host === undefined && f.wan === undefined) {
      add("no_endpoint", "error", T("Devices do not know where to connect: the router has neither a public name (endpoint_host) nor a WAN address. Set your DDNS name or public address on the Server page."));
    } else if (host === undefined && wanAddr !== undefined && nonPublicRange(wanAddr) !== undefined) {
      add("endpoint_not_public", "error", T(
          "The WAN address {address} is in {range}: devices on the Internet cannot reach it. Forward UDP port {port} to this router on the device in front of it, or connect through a relay with a public address.",
          { address: f.wan as string, range: nonPublicRange(wanAddr) as Text, port: port ?? DEFAULT_PORT },
        ));
    } else if (hostAddr !== undefined && nonPublicRange(hostAddr) !== undefined) {
      add("endpoint_not_public", "error", T("The public address devices are given, {address}, is in {range}: devices on the Internet cannot reach it.", { address: host as string, range: nonPublicRange(hostAddr) as Text }), undefined, "endpoint_host");
    } else if (host !== undefined && hostAddr === undefined && f.resolved !== undefined && f.wan !== undefined && wanAddr !== undefined && nonPublicRange(wanAddr) === undefined && f.resolved.indexOf(f.wan) < 0) {
      add("ddns_mismatch", "warning", f.resolved.length === 0
          ? T("The name {host} does not resolve: devices cannot find the router. Check the DDNS service.", { host })
          : T("The name {host} resolves to {addresses}, but the WAN address is {address}: devices connect to the wrong place. Check that the DDNS service updates the name.", { host, addresses: f.resolved.join(", "), address: f.wan }), undefined, "endpoint_host");
    }
    if (hostAddr !== undefined && hostAddr.family === 4 && f.wan === undefined && f.wanIpv6) {
      add("endpoint_family", "error", T("The WAN has only IPv6, but devices are given the IPv4 address {address}: they cannot connect. Give them a name or the IPv6 address.", { address: host as string }), undefined, "endpoint_host");
    } else if (hostAddr !== undefined && hostAddr.family === 6 && !f.wanIpv6) {
      add("endpoint_family", "error", T("Devices are given the IPv6 address {address}, but the WAN has no IPv6: they cannot connect.", { address: host as string }), undefined, "endpoint_host");
    }
  }

  // ---- overlaps ----
  for (const c of interfaceAddresses(iface)) {
    const net = networkOf(c);
    for (const o of otherNetworks(m)) {
      if (overlaps(o.net, net)) add("subnet_overlap", "error", T('The tunnel subnet {subnet} overlaps {other} of interface "{interface}": traffic meant for one goes to the other. Choose another tunnel subnet on the Server page.', { subnet: formatCidr(net), other: formatCidr(o.net), interface: o.name }), undefined, "address");
    }
    for (const w of wgInterfaces(m)) {
      if (w.name === ifn) continue;
      for (const d of interfaceAddresses(w)) {
        if (overlaps(networkOf(d), net)) add("subnet_overlap", "error", T("The tunnel subnet {subnet} overlaps {interface}'s {other}.", { subnet: formatCidr(net), interface: w.name, other: formatCidr(networkOf(d)) }), undefined, "address");
      }
    }
  }
  // Only the peers that run (enabled) can steal each other's addresses.
  const peers = peersOf(m, ifn);
  for (let i = 0; i < enabled.length; i++) {
    for (let j = i + 1; j < enabled.length; j++) {
      for (const a of peerAllowedIps(enabled[i])) {
        for (const b of peerAllowedIps(enabled[j])) {
          if (overlaps(a, b)) {
            add("peer_overlap", "error", T(
                '{subnet} of "{device}" and {other} of "{other_device}" overlap: WireGuard sends those addresses to one of them only (the other silently gets nothing). Change one device\'s networks.',
                { subnet: formatCidr(a), device: peerLabel(enabled[i]), other: formatCidr(b), other_device: peerLabel(enabled[j]) },
              ));
          }
        }
      }
    }
  }

  // ---- devices ----
  for (const p of enabled) {
    const label = peerLabel(p);
    if (opt(p, "public_key") === undefined) {
      add("peer_no_key", "error", T('"{device}" has no public key: netifd skips it and it cannot connect. The fix disables it until it has one.', { device: label }), { method: "update_peer", args: { interface: ifn, peer: p.name, enabled: false } });
      continue;
    }
    const lp = f.live?.peers.find((x) => x.publicKey === opt(p, "public_key"));
    if (f.live !== undefined && server) {
      const hs = lp?.latestHandshake ?? 0;
      if (hs === 0) add("never_connected", "info", T('"{device}" has never connected. If it should have: is its configuration imported, and can it reach the router\'s public address?', { device: label }));
      else if (f.now - hs > QUIET_SECONDS) add("quiet", "info", T('"{device}" has not connected for {days} days.', { device: label, days: Math.floor((f.now - hs) / 86400) }));
    }
    // S5: a split tunnel that carries a LAN exactly competes with the LAN the device may sit in.
    if (opt(m.section("wgmgr", p.name), "tunnel") === "split" && accessOf(m, p).mode === "lan") {
      for (const lan of lanSubnets(m)) {
        const wider = widerPrefix(lan);
        if (wider === undefined || !COMMON_LANS.some((c) => formatCidr(parseCidr(c, false) as Cidr) === formatCidr(lan))) continue;
        const tunnel = interfaceAddresses(iface).map((c) => formatCidr(networkOf(c)));
        add(
          "split_same_lan",
          "warning",
          T(
            '"{device}" routes {subnet} through the tunnel, a network many homes and offices use: where the device itself is in such a network, the local route wins and it cannot reach your LAN. Routing the wider {wider} instead lets the local network stay local and the rest go through the tunnel (works on Linux, macOS, iOS and Android, not on Windows). The device needs its configuration again.',
            { device: label, subnet: formatCidr(lan), wider: formatCidr(wider) },
          ),
          { method: "update_peer", args: { interface: ifn, peer: p.name, tunnel: [...tunnel, formatCidr(wider)] } },
        );
      }
    }
  }

  if (server && !accessInPlace(m, ifn)) {
    add("access_rules_stale", "warning", T(
        "The firewall rules that say what {interface}'s devices may reach do not match the devices any more (a change was cut short, or the rules were edited by hand): a device may reach more or less than it should. The fix writes them again.",
        { interface: ifn },
      ), { method: "setup", args: { interface: ifn } });
  }

  // ---- a change cut short between two config files ----
  // (A peer made elsewhere, e.g. in LuCI's own page, is an anonymous section: not wgmgr's.)
  for (const p of peers) {
    if (!p.anonymous && m.section("wgmgr", p.name) === undefined) {
      // Under per-device policy the repaired device gets the least (the router) until its
      // access is chosen again: a change cut short must not widen what it may reach.
      const policy = needsPolicy(m, ifn);
      add(
        "peer_half_written",
        "warning",
        policy
          ? T('"{device}" has no record in /etc/config/wgmgr (a change was cut short): it reaches nothing until it has one. The fix writes its record with access to the router only; choose its access again.', { device: peerLabel(p) })
          : T('"{device}" has no record in /etc/config/wgmgr (a change was cut short): it works with default settings (full tunnel, the interface\'s DNS). The fix writes its record.', { device: peerLabel(p) }),
        { method: "update_peer", args: policy ? { interface: ifn, peer: p.name, access: "router" } : { interface: ifn, peer: p.name } },
      );
    }
  }
  for (const s of m.sections("wgmgr", "peer")) {
    if (opt(s, "interface") === ifn && m.section("network", s.name) === undefined) {
      add("record_half_written", "warning", T('wgmgr has a record of a device "{device}" that is not in /etc/config/network (a removal was cut short). The fix removes the record.', { device: s.name }), { method: "remove_peer", args: { interface: ifn, peer: s.name } });
    }
  }

  // ---- the WAN ----
  const wan = m.section("network", "wan");
  const mtu = num(iface, "mtu");
  if (opt(wan, "proto") === "pppoe" && (mtu === undefined || mtu > 1412)) {
    add("mtu_pppoe", "warning", T("The WAN is PPPoE, whose packets are 8 bytes smaller: with MTU {mtu} large packets through the tunnel are fragmented or lost (pages that load halfway). The fix sets 1412.", { mtu: mtu ?? 1420 }), { method: "setup", args: { interface: ifn, mtu: 1412 } });
  }

  // ---- S4: a side router ----
  const lan = m.section("network", "lan");
  const own = lanAddresses(m).find((c) => c.addr.family === 4);
  if (server && !flag(meta, "masquerade") && own !== undefined && (opt(lan, "gateway") !== undefined || f.dhcpOffOnLan)) {
    const routes = interfaceAddresses(iface)
      .filter((c) => c.addr.family === 4)
      .map((c) => `${formatCidr(networkOf(c))} via ${formatAddress(own.addr)}`);
    add(
      "side_router",
      "warning",
      T(
        "This router is not the LAN's gateway, so LAN hosts answer devices in the tunnel through another router that knows nothing of the tunnel: their replies are lost. Either add the route {routes} on the LAN's gateway, or let the fix turn on masquerade (LAN hosts then see this router instead of the device).",
        { routes: routes.join(", ") },
      ),
      { method: "setup", args: { interface: ifn, masquerade: true } },
    );
  }
  return out;
}

/** A rule before `ours` in the file that drops or rejects the handshake's UDP port from the WAN. */
function shadowingRule(m: Model, ours: Section, port: number): Section | undefined {
  for (const s of m.sections("firewall")) {
    if (s === ours) return undefined;
    if (s.type !== "rule" || opt(s, "enabled") === "0" || opt(s, "src") !== "wan" || opt(s, "dest") !== undefined) continue;
    const target = opt(s, "target");
    if (target !== "DROP" && target !== "REJECT") continue;
    const proto = opt(s, "proto") ?? "tcp udp";
    if (proto !== "all" && proto !== "udp" && string.find(proto, "udp", 1, true)[0] === undefined) continue;
    const ports = list(s, "dest_port");
    if (ports.length > 0 && !ports.some((p) => portMatches(p, port))) continue;
    return s;
  }
  return undefined;
}

/** "51820", "51000-52000" or "51820 51821" against a port. */
function portMatches(spec: string, port: number): boolean {
  for (const [part] of string.gmatch(spec, "[^%s]+")) {
    const [lo, hi] = string.match(part, "^(%d+)%-?(%d*)$");
    if (lo === undefined) continue;
    const a = tonumber(lo) as number;
    const b = hi !== undefined && hi !== "" ? (tonumber(hi) as number) : a;
    if (port >= a && port <= b) return true;
  }
  return false;
}

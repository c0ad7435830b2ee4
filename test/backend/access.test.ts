// Per-device access (S6): the firewall sections wgmgr owns for it, the refusals, and the
// client configurations that agree with it. (What firewall4 makes of the sections, with
// real traffic, is test/firewall/access.test.ts, with WGMGR_REAL_FW4.) The plugin runs
// against the simulated router (test/sim): nothing here reaches the host's network.
import { describe, expect, test } from "vitest";
import { routerForTest, TestRouter } from "../lib/router";

function own(): TestRouter {
  const r = routerForTest();
  expect(r.call("setup", { listen_port: 51820, address: "192.168.100.1/24", address6: "fd00:100::1/64", zone: "own" }).error).toBeUndefined();
  return r;
}

/** wgmgr's firewall sections of wg0 other than the zone, the handshake and the forwarding from lan: [name, options]. */
const accessSections = (r: TestRouter) =>
  r
    .sections("firewall")
    .filter((s) => s.name.startsWith("wgmgr_wg0_") && !["wgmgr_wg0_zone", "wgmgr_wg0_handshake", "wgmgr_wg0_from_lan"].includes(s.name))
    .map((s) => [s.name, s.options]);

const allowed = (r: TestRouter, peer: string) => /AllowedIPs = (.*)/.exec(r.call("peer_config", { peer }).config)![1];

describe("per-device access", () => {
  test("every device at lan (the default): the zone's forwardings and hub rule, input ACCEPT, nothing per device", () => {
    const r = own();
    r.call("add_peer", { name: "iPhone" });
    expect(accessSections(r).map(([n]) => n)).toEqual(["wgmgr_wg0_to_lan", "wgmgr_wg0_to_wan", "wgmgr_wg0_hub"]);
    expect(r.section("firewall", "wgmgr_wg0_zone")?.options.input).toBe("ACCEPT");
    expect(r.call("get").interfaces[0].peers[0]).toMatchObject({ access: "lan", access_to: [], access_text: "Home network and Internet" });
  });

  test("limited devices: each one's rules by its tunnel addresses, then one reject; no zone-wide forwarding", () => {
    const r = own();
    r.call("add_peer", { name: "laptop" });
    r.call("add_peer", { name: "tv", access: "internet" });
    r.call("add_peer", { name: "printer", access: "router", dns: ["192.168.1.1"] });
    const nas = r.call("add_peer", { name: "nas user", access: ["192.168.1.5:445/tcp", "192.168.1.0/24:80,443", "[fd00:1::5]:22/tcp", "10.9.9.9"] });
    expect(nas.error, JSON.stringify(nas)).toBeUndefined();
    const src = (n: number) => ({ src: "wg0", src_ip: [`192.168.100.${n}/32`, `fd00:100::${n}/128`], target: "ACCEPT" });
    expect(accessSections(r)).toEqual([
      ["wgmgr_wg0_laptop_in", { name: "wgmgr-wg0-laptop-in", ...src(2), proto: "all" }],
      ["wgmgr_wg0_laptop_lan", { name: "wgmgr-wg0-laptop-lan", ...src(2), dest: "lan", proto: "all" }],
      ["wgmgr_wg0_laptop_wan", { name: "wgmgr-wg0-laptop-wan", ...src(2), dest: "wan", proto: "all" }],
      ["wgmgr_wg0_laptop_hub", { name: "wgmgr-wg0-laptop-hub", ...src(2), dest: "wg0", proto: "all" }],
      // its DNS is the router (the interface's default): DNS on the router, then the Internet
      ["wgmgr_wg0_tv_dns", { name: "wgmgr-wg0-tv-dns", ...src(3), proto: "tcp udp", dest_port: "53" }],
      ["wgmgr_wg0_tv_wan", { name: "wgmgr-wg0-tv-wan", ...src(3), dest: "wan", proto: "all" }],
      ["wgmgr_wg0_printer_dns", { name: "wgmgr-wg0-printer-dns", ...src(4), proto: "tcp udp", dest_port: "53" }],
      ["wgmgr_wg0_printer_icmp", { name: "wgmgr-wg0-printer-icmp", ...src(4), proto: "icmp" }],
      ["wgmgr_wg0_nasuser_dns", { name: "wgmgr-wg0-nasuser-dns", ...src(5), proto: "tcp udp", dest_port: "53" }],
      ["wgmgr_wg0_nasuser_to1", { name: "wgmgr-wg0-nasuser-to1", ...src(5), dest: "lan", dest_ip: "192.168.1.5/32", proto: "tcp", dest_port: ["445"] }],
      // ports without a protocol: TCP and UDP, never proto all (fw4 would drop the ports)
      ["wgmgr_wg0_nasuser_to2", { name: "wgmgr-wg0-nasuser-to2", ...src(5), dest: "lan", dest_ip: "192.168.1.0/24", proto: "tcp udp", dest_port: ["80", "443"] }],
      ["wgmgr_wg0_nasuser_to3", { name: "wgmgr-wg0-nasuser-to3", ...src(5), dest: "wan", dest_ip: "fd00:1::5/128", proto: "tcp", dest_port: ["22"] }],
      ["wgmgr_wg0_nasuser_to4", { name: "wgmgr-wg0-nasuser-to4", ...src(5), dest: "wan", dest_ip: "10.9.9.9/32", proto: "all" }],
      ["wgmgr_wg0_reject", { name: "wgmgr-wg0-reject", src: "wg0", dest: "*", proto: "all", target: "REJECT" }],
    ]);
    expect(r.section("firewall", "wgmgr_wg0_zone")?.options.input).toBe("REJECT");
    const words = r.call("get").interfaces[0].peers.map((p: any) => [p.name, p.access, p.access_text]);
    expect(words).toEqual([
      ["laptop", "lan", "Home network and Internet"],
      ["tv", "internet", "Internet only"],
      ["printer", "router", "Only the router"],
      ["nas user", "custom", "Only 192.168.1.5:445/tcp, 192.168.1.0/24:80,443, [fd00:1::5]:22/tcp, 10.9.9.9"],
    ]);
  });

  test("the client configuration agrees: a split tunnel carries only what the device may reach", () => {
    const r = own();
    r.call("add_peer", { name: "tv", tunnel: "split", access: "internet" });
    r.call("add_peer", { name: "nas user", tunnel: "split", access: ["192.168.1.5:445/tcp"] });
    r.call("add_peer", { name: "laptop", tunnel: "split" });
    expect(allowed(r, "tv")).toBe("192.168.100.0/24, fd00:100::/64");
    expect(allowed(r, "nas user")).toBe("192.168.100.0/24, fd00:100::/64, 192.168.1.5/32");
    expect(allowed(r, "laptop")).toBe("192.168.100.0/24, fd00:100::/64, 192.168.1.0/24");
  });

  test("rename, renumber, disable, remove: the rules follow; all at lan again and teardown leave nothing", () => {
    const r = own();
    const base = r.sections("firewall").filter((s) => !s.name.startsWith("wgmgr_"));
    r.call("add_peer", { name: "tv", access: "internet" });
    r.call("add_peer", { name: "phone", access: "router" });
    r.call("update_peer", { peer: "tv", name: "living room tv" });
    expect(accessSections(r).map(([n]) => n)).toContain("wgmgr_wg0_tv_wan"); // named by id: stable across renames
    r.call("setup", { address: "10.9.0.1/24" });
    expect(r.section("firewall", "wgmgr_wg0_tv_wan")?.options.src_ip).toEqual(["10.9.0.2/32", "fd00:100::2/128"]);
    r.call("update_peer", { peer: "phone", enabled: false });
    expect(accessSections(r).map(([n]) => n)).toEqual(["wgmgr_wg0_tv_dns", "wgmgr_wg0_tv_wan", "wgmgr_wg0_reject"]);
    r.call("remove_peer", { peer: "living room tv" });
    // the one left is disabled: no device needs policy, the zone-wide forwardings are back
    expect(accessSections(r).map(([n]) => n)).toEqual(["wgmgr_wg0_to_lan", "wgmgr_wg0_to_wan", "wgmgr_wg0_hub"]);
    expect(r.section("firewall", "wgmgr_wg0_zone")?.options.input).toBe("ACCEPT");
    r.call("teardown", {});
    expect(r.sections("firewall")).toEqual(base);
  });

  test("limiting needs a zone of its own: refused in the lan zone, and the lan zone refused while devices are limited", () => {
    const r = routerForTest();
    r.call("setup", { address: "192.168.100.1/24" }); // zone lan
    r.call("add_peer", { name: "phone" });
    const before = r.snapshot();
    const e = r.call("update_peer", { peer: "phone", access: "internet" });
    expect(e).toMatchObject({ error: "ACCESS_NEEDS_OWN_ZONE", field: "access" });
    expect(e.message).toContain('zone "own"');
    expect(r.call("add_peer", { name: "tv", access: "router" })).toMatchObject({ error: "ACCESS_NEEDS_OWN_ZONE", field: "access" });
    expect(r.snapshot()).toEqual(before);
    // The user moves the tunnel; devices keep their access; going back is refused while one is limited.
    expect(r.call("setup", { zone: "own" }).error).toBeUndefined();
    expect(r.call("update_peer", { peer: "phone", access: "internet" }).error).toBeUndefined();
    expect(r.call("setup", { zone: "lan" })).toMatchObject({ error: "ACCESS_NEEDS_OWN_ZONE", field: "zone" });
  });

  test("bad destinations: a structured error naming access, nothing written", () => {
    const r = own();
    r.call("add_peer", { name: "phone" });
    const before = r.snapshot();
    for (const bad of ["10.0.0.0/0", "0.0.0.0/0", "192.168.1.5:99999", "192.168.1.5:0/tcp", "192.168.1.5:80-20", "[fd00::5]445", "nas.local", "192.168.1.5/25", "192.168.1.5:80/icmp", ""]) {
      const e = r.call("update_peer", { peer: "phone", access: [bad] });
      expect(e, bad).toMatchObject({ field: "access" });
      expect(["INVALID_ACCESS", "INVALID_PREFIX", "HOST_BITS_SET"]).toContain(e.error);
    }
    expect(r.call("update_peer", { peer: "phone", access: [] })).toMatchObject({ error: "INVALID_ACCESS", field: "access" });
    expect(r.snapshot()).toEqual(before);
  });
});

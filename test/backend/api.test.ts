// The plugin's ubus API, run as rpcd runs it, on configs seeded from OpenWrt's defaults.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { REPO, routerForTest, TestRouter, UciSection } from "../lib/router";

// Each test's router is simulated (test/sim): the plugin's wg, ip, ubus, logger and init
// scripts are recording stand-ins, so nothing here can reach the host's network.
const router = (files?: Record<string, string>): TestRouter => routerForTest({ files });

const wgPubkey = (priv: string): string =>
  spawnSync("wg", ["pubkey"], { input: priv + "\n", encoding: "utf8" }).stdout.trim();

const opts = (s: UciSection | undefined) => s?.options ?? {};

/** The S1 home setup: server on 8890, iPhone full tunnel, PC split tunnel, both with PSKs. */
function s1(r: TestRouter) {
  const setup = r.call("setup", { listen_port: 8890, address: "192.168.100.1/24", endpoint_host: "home.example.net" });
  const iphone = r.call("add_peer", { interface: "wg0", name: "iPhone", tunnel: "full" });
  const pc = r.call("add_peer", { interface: "wg0", name: "PC", tunnel: "split" });
  return { setup, iphone, pc };
}

describe("list", () => {
  test("advertises every method with an object signature, as rpcd requires", () => {
    const r = router();
    const sig = r.list();
    const methods = ["status", "get", "defaults", "setup", "add_peer", "update_peer", "remove_peer", "peer_config", "add_route", "remove_route", "sync", "teardown", "import", "diagnose"];
    expect(Object.keys(sig).sort()).toEqual([...methods].sort());
    for (const m of methods) {
      expect(typeof sig[m]).toBe("object");
      expect(Array.isArray(sig[m])).toBe(false);
    }
    expect(sig.setup.listen_port).toBe(51820);
    expect(sig.add_peer.preshared_key).toBe(true);
  });

  test("an unknown method and a non-object body are structured errors", () => {
    const r = router();
    expect(r.call("nope")).toMatchObject({ error: "UNKNOWN_METHOD" });
    expect(r.call("get", "[]")).toMatchObject({ error: "INVALID_ARGUMENT" });
    expect(r.call("get", "not json")).toMatchObject({ error: "INVALID_ARGUMENT" });
  });
});

describe("S1: road warrior into the home LAN, entirely with ubus calls", () => {
  test("setup writes the interface, the WAN handshake rule and the LAN zone membership", () => {
    const r = router();
    const { setup } = s1(r);
    expect(setup.error).toBeUndefined();
    expect(setup.created).toBe(true);
    const wg0 = r.section("network", "wg0");
    expect(wg0?.type).toBe("interface");
    expect(opts(wg0)).toMatchObject({ proto: "wireguard", listen_port: "8890", addresses: ["192.168.100.1/24"] });
    // The key comes from real wg, and the reported public key is its real public key.
    expect(wgPubkey(opts(wg0).private_key as string)).toBe(setup.public_key);

    const rule = r.section("firewall", "wgmgr_wg0_handshake");
    expect(rule?.type).toBe("rule");
    expect(opts(rule)).toEqual({ name: "Allow-WireGuard-wg0", src: "wan", proto: "udp", dest_port: "8890", target: "ACCEPT" });
    const lan = r.sections("firewall").find((s) => s.type === "zone" && s.options.name === "lan");
    expect(lan?.options.network).toEqual(["lan", "wg0"]);
    // The address carries the prefix: the tunnel subnet gets its connected route.
    expect(r.file("network")).toContain("list addresses '192.168.100.1/24'");
  });

  test("peers get distinct addresses, real keys, PSKs, routes and the right client configs", () => {
    const r = router();
    const { setup, iphone, pc } = s1(r);
    expect(iphone.error).toBeUndefined();
    expect(pc.error).toBeUndefined();

    const ip = r.section("network", iphone.peer.id);
    expect(ip?.type).toBe("wireguard_wg0");
    expect(opts(ip)).toMatchObject({
      description: "iPhone",
      allowed_ips: ["192.168.100.2/32"],
      route_allowed_ips: "1",
      persistent_keepalive: "25",
    });
    expect(wgPubkey(opts(ip).private_key as string)).toBe(opts(ip).public_key);
    expect(opts(ip).preshared_key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(opts(r.section("network", pc.peer.id)).allowed_ips).toEqual(["192.168.100.3/32"]);

    const conf = iphone.config as string;
    expect(conf).toContain(`PrivateKey = ${opts(ip).private_key}`);
    expect(conf).toContain("Address = 192.168.100.2/32");
    expect(conf).toContain("DNS = 192.168.1.1");
    expect(conf).toContain(`PublicKey = ${setup.public_key}`);
    expect(conf).toContain(`PresharedKey = ${opts(ip).preshared_key}`);
    expect(conf).toContain("AllowedIPs = 0.0.0.0/0, ::/0");
    expect(conf).toContain("Endpoint = home.example.net:8890");
    expect(conf).toContain("PersistentKeepalive = 25");
    // Split tunnel: the tunnel subnet and the router's LAN only.
    expect(pc.config).toContain("AllowedIPs = 192.168.100.0/24, 192.168.1.0/24");
    // S5: a split tunnel that carries the LAN exactly gets the route-conflict note.
    expect(pc.warnings.map((w: { message: string }) => w.message).join(" ")).toContain("wider prefix");

    // peer_config gives the same text later.
    expect(r.call("peer_config", { peer: "iPhone" }).config).toBe(conf);
    expect(r.call("peer_config", { peer: "iPhone" }).filename).toBe("iPhone.conf");
  });

  test("get returns the model without any private key", () => {
    const r = router();
    s1(r);
    const got = r.call("get", {});
    const text = JSON.stringify(got);
    expect(text).not.toMatch(/private_key"\s*:\s*"/);
    for (const s of [...r.sections("network")]) {
      for (const k of ["private_key", "preshared_key"]) {
        if (typeof s.options[k] === "string") expect(text).not.toContain(s.options[k]);
      }
    }
    const wg0 = got.interfaces[0];
    expect(wg0).toMatchObject({ name: "wg0", listen_port: 8890, zone: "lan", endpoint_host: "home.example.net" });
    expect(wg0.peers.map((p: any) => [p.name, p.tunnel, p.addresses[0], p.preshared_key, p.private_key_kept])).toEqual([
      ["iPhone", "full", "192.168.100.2/32", true, true],
      ["PC", "split", "192.168.100.3/32", true, true],
    ]);
    expect(got.lan_subnets).toEqual(["192.168.1.0/24"]);
    expect(wg0.split_allowed_ips).toEqual(["192.168.100.0/24", "192.168.1.0/24"]);
  });

  test("setup is idempotent and never replaces the key", () => {
    const r = router();
    const first = r.call("setup", { listen_port: 8890, address: "192.168.100.1/24" });
    const key = opts(r.section("network", "wg0")).private_key;
    const files = r.snapshot();
    const again = r.call("setup", { listen_port: 8890, address: "192.168.100.1/24" });
    expect(again.changes).toEqual([]);
    expect(again.public_key).toBe(first.public_key);
    expect(r.snapshot()).toEqual(files);
    r.call("add_peer", { name: "phone" });
    const moved = r.call("setup", { listen_port: 51821 });
    expect(moved.warnings.map((w: { message: string }) => w.message).join(" ")).toContain("Endpoint changed");
    expect(opts(r.section("network", "wg0")).private_key).toBe(key);
    expect(opts(r.section("firewall", "wgmgr_wg0_handshake")).dest_port).toBe("51821");
  });

  test("status lists a configured interface that is not running, with its peers offline", () => {
    const r = router();
    s1(r);
    const st = r.call("status", {});
    const wg0 = st.interfaces.find((i: any) => i.name === "wg0");
    expect(wg0).toMatchObject({ up: false, configured: true, listen_port: 8890 });
    expect(wg0.peers.map((p: any) => [p.name, p.online, p.latest_handshake])).toEqual([
      ["iPhone", false, 0],
      ["PC", false, 0],
    ]);
  });
});

describe("zones", () => {
  test("zone own: a zone of its own with forwardings to lan and wan, and back to lan", () => {
    const r = router();
    r.call("setup", { address: "192.168.100.1/24", zone: "own" });
    expect(opts(r.section("firewall", "wgmgr_wg0_zone"))).toMatchObject({ name: "wg0", network: ["wg0"], input: "ACCEPT", forward: "REJECT" });
    expect(opts(r.section("firewall", "wgmgr_wg0_to_lan"))).toEqual({ src: "wg0", dest: "lan" });
    expect(opts(r.section("firewall", "wgmgr_wg0_to_wan"))).toEqual({ src: "wg0", dest: "wan" });
    expect(opts(r.section("firewall", "wgmgr_wg0_from_lan"))).toEqual({ src: "lan", dest: "wg0" });
    const lan = r.sections("firewall").find((s) => s.options.name === "lan");
    expect(lan?.options.network).toEqual(["lan"]);

    r.call("setup", { zone: "lan" });
    expect(r.section("firewall", "wgmgr_wg0_zone")).toBeUndefined();
    expect(r.section("firewall", "wgmgr_wg0_to_lan")).toBeUndefined();
    expect(r.sections("firewall").find((s) => s.options.name === "lan")?.options.network).toEqual(["lan", "wg0"]);
  });

  test("teardown removes exactly what wgmgr created, nothing else", () => {
    const r = router();
    const before = { network: r.sections("network"), firewall: r.sections("firewall") };
    s1(r);
    r.call("add_route", { target: "192.168.200.0/24", gateway: "192.168.100.3" });
    const down = r.call("teardown", { interface: "wg0" });
    expect(down.error).toBeUndefined();
    const strip = (ss: UciSection[]) => ss.map((s) => ({ type: s.type, name: s.anonymous ? "" : s.name, options: s.options }));
    expect(strip(r.sections("network"))).toEqual(strip(before.network));
    expect(strip(r.sections("firewall"))).toEqual(strip(before.firewall));
    expect(r.sections("wgmgr")).toEqual([]);
  });

  test("teardown keeps a LAN zone membership wgmgr did not add", () => {
    const r = router();
    r.call("setup", { address: "192.168.100.1/24" });
    // Pretend the user had put wg0 in the LAN zone before wgmgr: forget that wgmgr did it.
    const fw = r.file("firewall");
    r.call("teardown", {});
    const lanAfter = r.sections("firewall").find((s) => s.options.name === "lan");
    expect(lanAfter?.options.network).toEqual(["lan"]);
    expect(fw).toContain("list network 'wg0'");
  });
});

describe("peers", () => {
  test("a UTF-8 name (Chinese) round-trips through UCI, get and the client config", () => {
    const r = router();
    r.call("setup", { address: "192.168.100.1/24", endpoint_host: "203.0.113.1" });
    const name = "家里的路由器 \"客厅\"";
    const added = r.call("add_peer", { name });
    expect(added.error).toBeUndefined();
    expect(r.call("get", {}).interfaces[0].peers[0].name).toBe(name);
    expect(opts(r.section("network", added.peer.id)).description).toBe(name);
    expect(added.config.split("\n")[0]).toBe(`# ${name}`);
    expect(added.peer.id).toBe("wg0_peer1");
  });

  test("addresses: next free, explicit, refused when taken, outside or the router's", () => {
    const r = router();
    r.call("setup", { address: "192.168.100.1/24", address6: "fd00:100::1/64" });
    const a = r.call("add_peer", { name: "a", address: "192.168.100.7" });
    expect(a.peer.addresses).toEqual(["192.168.100.7/32", "fd00:100::7/128"]);
    expect(r.call("add_peer", { name: "b" }).peer.addresses).toEqual(["192.168.100.2/32", "fd00:100::2/128"]);
    expect(r.call("add_peer", { name: "c", address: "192.168.100.7" })).toMatchObject({ error: "ADDRESS_IN_USE", field: "address" });
    expect(r.call("add_peer", { name: "c", address: "192.168.100.1" })).toMatchObject({ error: "ADDRESS_IN_USE", field: "address" });
    expect(r.call("add_peer", { name: "c", address: "10.9.9.9" })).toMatchObject({ error: "INVALID_ADDRESS", field: "address" });
    expect(r.call("add_peer", { name: "c", address: "192.168.100.255" })).toMatchObject({ error: "INVALID_ADDRESS" });
    expect(r.call("add_peer", { name: "a" })).toMatchObject({ error: "ALREADY_EXISTS", field: "name" });
  });

  test("two peers never share an allowed range", () => {
    const r = router();
    r.call("setup", { address: "192.168.100.1/24" });
    r.call("add_peer", { name: "office", subnets: ["192.168.200.0/24"] });
    const files = r.snapshot();
    const clash = r.call("add_peer", { name: "branch", subnets: ["192.168.200.128/25"] });
    expect(clash).toMatchObject({ error: "OVERLAP", field: "subnets" });
    expect(clash.message).toContain('"office"');
    expect(r.call("add_peer", { name: "x", subnets: ["192.168.1.0/24"] })).toMatchObject({ error: "OVERLAP" });
    expect(r.call("add_peer", { name: "x", subnets: ["0.0.0.0/0"] })).toMatchObject({ error: "INVALID_PREFIX" });
    expect(r.snapshot()).toEqual(files);
  });

  test("a mistyped /0 is refused with what it means and the prefix meant", () => {
    const r = router();
    r.call("setup", { address: "192.168.100.1/24" });
    const e = r.call("add_peer", { name: "laptop", tunnel: ["192.168.10.0/0", "10.0.0.0/0"] });
    expect(e).toMatchObject({ error: "INVALID_PREFIX", field: "tunnel" });
    expect(e.message).toContain("every IPv4 address");
    expect(e.message).toContain("192.168.10.0/24");
    const h = r.call("add_peer", { name: "laptop", subnets: "192.168.10.5/24" });
    expect(h).toMatchObject({ error: "HOST_BITS_SET", field: "subnets" });
    expect(h.message).toContain("192.168.10.0/24");
  });

  test("split tunnel carries every static LAN network, IPv6 included", () => {
    const r = router();
    writeFileSync(`${r.confdir}/network`, r.file("network").replace("option ip6assign '60'", "option ip6assign '60'\n\tlist ip6addr 'fd00:1::1/64'"));
    r.call("setup", { address: "192.168.100.1/24", address6: "fd00:100::1/64" });
    const pc = r.call("add_peer", { name: "PC", tunnel: "split" });
    expect(pc.config).toContain("AllowedIPs = 192.168.100.0/24, fd00:100::/64, 192.168.1.0/24, fd00:1::/64");
    expect(r.call("setup", { address6: "fd00:1::2/64" })).toMatchObject({ error: "SUBNET_CONFLICT", field: "address6" });
  });

  test("custom tunnel and subnets behind a peer (S3: an office router)", () => {
    const r = router();
    r.call("setup", { address: "10.70.0.1/16" });
    const office = r.call("add_peer", { name: "office", address: "10.70.0.2", subnets: ["192.168.200.0/24"], tunnel: "10.70.0.0/16, 192.168.1.0/24" });
    expect(office.error).toBeUndefined();
    expect(opts(r.section("network", office.peer.id)).allowed_ips).toEqual(["10.70.0.2/32", "192.168.200.0/24"]);
    expect(office.config).toContain("AllowedIPs = 10.70.0.0/16, 192.168.1.0/24");
  });

  test("update_peer renames, re-addresses, disables and drops the PSK; a peer never loses its allowed IPs", () => {
    const r = router();
    r.call("setup", { address: "192.168.100.1/24" });
    const p = r.call("add_peer", { name: "phone" });
    const id = p.peer.id;
    const u = r.call("update_peer", { peer: "phone", name: "Phone 2", address: "192.168.100.50", enabled: false, preshared_key: false, keepalive: 0 });
    expect(u.error).toBeUndefined();
    expect(opts(r.section("network", id))).toMatchObject({ description: "Phone 2", allowed_ips: ["192.168.100.50/32"], disabled: "1" });
    expect(opts(r.section("network", id)).preshared_key).toBeUndefined();
    expect(opts(r.section("network", id)).persistent_keepalive).toBeUndefined();
    expect(r.call("update_peer", { peer: id, enabled: true }).peer.enabled).toBe(true);
    expect(r.call("update_peer", { peer: id, subnets: [] }).peer.allowed_ips).toEqual(["192.168.100.50/32"]);
    expect(r.call("update_peer", { peer: "nobody", enabled: true })).toMatchObject({ error: "NOT_FOUND", field: "peer" });
    const removed = r.call("remove_peer", { peer: "Phone 2" });
    expect(removed).toMatchObject({ removed: id });
    expect(r.section("network", id)).toBeUndefined();
    expect(r.section("wgmgr", id)).toBeUndefined();
  });

  test("update_peer keeps the preshared key unless told to drop it; true adds one only when missing", () => {
    const r = router();
    r.call("setup", { address: "192.168.100.1/24" });
    const id = r.call("add_peer", { name: "phone" }).peer.id;
    const psk = opts(r.section("network", id)).preshared_key;
    expect(psk).toBeTruthy();
    for (const change of [{ enabled: false }, { enabled: true }, { name: "Phone" }, { keepalive: 10 }, { preshared_key: true }]) {
      const u = r.call("update_peer", { peer: id, ...change });
      expect(u.error).toBeUndefined();
      expect(opts(r.section("network", id)).preshared_key, JSON.stringify(change)).toBe(psk);
    }
    r.call("update_peer", { peer: id, preshared_key: false });
    expect(opts(r.section("network", id)).preshared_key).toBeUndefined();
    r.call("update_peer", { peer: id, preshared_key: true });
    expect(opts(r.section("network", id)).preshared_key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });

  test("a brought public key, and a private key that was not kept, are said so", () => {
    const r = router();
    r.call("setup", { address: "192.168.100.1/24", endpoint_host: "vpn.example.org" });
    const own = spawnSync("wg", ["genkey"], { encoding: "utf8" }).stdout.trim();
    const brought = r.call("add_peer", { name: "laptop", public_key: wgPubkey(own) });
    expect(brought.peer.private_key_kept).toBe(false);
    expect(brought.config).not.toMatch(/^PrivateKey = /m);
    const later = r.call("peer_config", { peer: "laptop" });
    expect(later.private_key_kept).toBe(false);
    expect(later.warnings.map((w: { message: string }) => w.message).join(" ")).toContain("did not keep");

    // An empty public_key (list's example value, an empty form field) means "generate one".
    expect(r.call("add_peer", { name: "empty-key", public_key: "" }).peer.private_key_kept).toBe(true);

    const once = r.call("add_peer", { name: "tablet", keep_private_key: false });
    const priv = /^PrivateKey = (.*)$/m.exec(once.config)?.[1] ?? "";
    expect(wgPubkey(priv)).toBe(once.peer.public_key);
    expect(opts(r.section("network", once.peer.id)).private_key).toBeUndefined();
    expect(r.call("peer_config", { peer: "tablet" }).config).not.toContain(priv);
    expect(r.call("add_peer", { name: "dup", public_key: wgPubkey(own) })).toMatchObject({ error: "ALREADY_EXISTS", field: "public_key" });
  });
});

describe("routes", () => {
  test("persistent routes are named sections owned by wgmgr, listed by get, removable by target", () => {
    const r = router();
    r.call("setup", { address: "192.168.100.1/24" });
    const add = r.call("add_route", { target: "192.168.200.0/24", gateway: "192.168.100.2", metric: 10 });
    // No peer carries 192.168.200.0/24 in its allowed IPs: WireGuard would drop it, and says so.
    expect(add.warnings.map((w: { message: string }) => w.message).join(" ")).toContain("subnets");
    expect(add.route).toEqual({ id: "wgmgr_wg0_route1", target: "192.168.200.0/24", gateway: "192.168.100.2", metric: 10 });
    expect(opts(r.section("network", "wgmgr_wg0_route1"))).toEqual({ interface: "wg0", target: "192.168.200.0/24", gateway: "192.168.100.2", metric: "10" });
    const v6 = r.call("add_route", { target: "fd00:200::/64" });
    expect(r.section("network", v6.route.id)?.type).toBe("route6");
    expect(r.call("add_route", { target: "192.168.200.0/24" })).toMatchObject({ error: "ALREADY_EXISTS" });
    expect(r.call("add_route", { target: "192.168.200.1/24" })).toMatchObject({ error: "HOST_BITS_SET", field: "target" });
    expect(r.call("get", {}).interfaces[0].routes.map((x: any) => x.target)).toEqual(["192.168.200.0/24", "fd00:200::/64"]);
    expect(r.call("remove_route", { target: "192.168.200.0/24" })).toMatchObject({ removed: "wgmgr_wg0_route1" });
    expect(r.call("remove_route", { route: "wgmgr_wg0_route9" })).toMatchObject({ error: "NOT_FOUND" });
  });
});

describe("LuCI sessions: changes are staged, not committed", () => {
  const sid = "0123456789abcdef0123456789abcdef";

  test("a call with ubus_rpc_session writes the session's delta and leaves /etc/config alone", () => {
    const r = router();
    r.call("setup", { address: "192.168.100.1/24" });
    const files = r.snapshot();
    const staged = r.call("add_peer", { name: "iPhone", ubus_rpc_session: sid });
    expect(staged.error).toBeUndefined();
    expect(staged.staged).toBe(true);
    expect(r.snapshot()).toEqual(files);
    expect(r.section("network", staged.peer.id, sid)?.options.description).toBe("iPhone");
    expect(r.section("network", staged.peer.id)).toBeUndefined();
    // The session sees its staged peer; a plain call does not.
    expect(r.call("get", { ubus_rpc_session: sid }).interfaces[0].peers).toHaveLength(1);
    expect(r.call("get", {}).interfaces[0].peers).toHaveLength(0);
    expect(r.call("peer_config", { peer: "iPhone", ubus_rpc_session: sid }).config).toContain("[Peer]");
  });

  test("a malformed session id is refused before it names a path", () => {
    const r = router();
    const files = r.snapshot();
    for (const bad of ["../../etc", "0123", 42, sid.toUpperCase() + "/x"]) {
      expect(r.call("setup", { address: "192.168.100.1/24", ubus_rpc_session: bad })).toMatchObject({ error: "INVALID_SESSION" });
    }
    expect(r.snapshot()).toEqual(files);
  });
});

describe("hand-made configurations", () => {
  test("an existing interface whose address is a bare /32 is not left without a tunnel route", () => {
    const r = router();
    const net = r.file("network") + "\nconfig interface 'wg0'\n\toption proto 'wireguard'\n\tlist addresses '192.168.100.1/32'\n";
    writeFileSync(`${r.confdir}/network`, net);
    const files = r.snapshot();
    const e = r.call("setup", { listen_port: 51820 });
    expect(e).toMatchObject({ error: "INVALID_PREFIX", field: "address" });
    expect(r.snapshot()).toEqual(files);
    const ok = r.call("setup", { address: "192.168.100.1/24" });
    expect(ok.error).toBeUndefined();
    expect(ok.created).toBe(false);
    expect(r.section("network", "wg0")?.options.addresses).toEqual(["192.168.100.1/24"]);
  });
});

describe("the router's public address", () => {
  // The simulated router's netifd reports `wan` as the WAN's address (ubus call network.interface.wan status).
  const withWan = (wan: string): TestRouter => {
    const r = routerForTest({ live: true, wan });
    return r;
  };

  test("without endpoint_host the Endpoint is the WAN address", () => {
    const r = withWan("203.0.113.7");
    r.call("setup", { address: "192.168.100.1/24", listen_port: 8890 });
    const p = r.call("add_peer", { name: "phone" });
    expect(p.config).toContain("Endpoint = 203.0.113.7:8890");
    expect(p.warnings.map((w: { message: string }) => w.message).join(" ")).not.toContain("cannot reach");
    expect(r.call("defaults", { interface: "wg1" }).endpoint_host).toBe("203.0.113.7");
  });

  test("a WAN address behind carrier-grade NAT or another router is explained", () => {
    const r = withWan("100.72.3.4");
    r.call("setup", { address: "192.168.100.1/24", listen_port: 8890 });
    const p = r.call("add_peer", { name: "phone" });
    expect(p.warnings.map((w: { message: string }) => w.message).join(" ")).toContain("100.64.0.0/10 (carrier-grade NAT)");
    expect(p.warnings.map((w: { message: string }) => w.message).join(" ")).toContain("UDP port 8890");
    const d = r.call("defaults", { interface: "wg1" });
    expect(d.warnings.map((w: { message: string }) => w.message).join(" ")).toContain("cannot reach");
    // A DDNS/public name set by the user is trusted: no WAN lookup, no warning.
    r.call("setup", { endpoint_host: "home.example.net" });
    expect(r.call("peer_config", { peer: "phone" }).warnings).toEqual([]);
  });
});

// Sites and relays (issue 8): import of a relay's wg-quick file, the router as the hub of
// sites, side routers (masquerade, the return route), the DDNS watchdog. The plugin runs
// against the simulated router (test/sim): nothing here reaches the host's network.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { routerForTest, TestRouter } from "../lib/router";

const router = (files?: Record<string, string>): TestRouter => routerForTest({ files });

const wg = (args: string[], input?: string) => spawnSync("wg", args, { input, encoding: "utf8" }).stdout.trim();
const keyPair = () => {
  const priv = wg(["genkey"]);
  return { priv, pub: wg(["pubkey"], priv + "\n") };
};
const psk = () => wg(["genpsk"]);
const opts = (r: TestRouter, config: string, section: string) => r.section(config, section)?.options ?? {};
const crontab = (r: TestRouter) => {
  const p = join(r.dir, "crontabs/root");
  return existsSync(p) ? readFileSync(p, "utf8") : "";
};

/** Files as real tools write them (shapes of wg-easy, PiVPN, a VPN provider, a relay), with fresh keys. */
function realWorldFiles() {
  const k = () => keyPair();
  const [a, b, c, d, e, f] = [k(), k(), k(), k(), k(), k()];
  return {
    // wg-easy: DNS, PSK, keepalive 0 (off), a full tunnel, a name endpoint
    wgEasy: `[Interface]\nPrivateKey = ${a.priv}\nAddress = 10.8.0.2/24\nDNS = 1.1.1.1\n\n[Peer]\nPublicKey = ${b.pub}\nPresharedKey = ${psk()}\nAllowedIPs = 0.0.0.0/0, ::/0\nPersistentKeepalive = 0\nEndpoint = vpn.example.com:51820\n`,
    // PiVPN: dual-stack address without spaces, "::0/0", Endpoint before AllowedIPs
    pivpn: `[Interface]\nPrivateKey = ${c.priv}\nAddress = 10.6.0.2/24,fd11:5ee:bad:c0de::2/64\nDNS = 10.6.0.1\n\n[Peer]\nPublicKey = ${d.pub}\nPresharedKey = ${psk()}\nEndpoint = 203.0.113.5:51820\nAllowedIPs = 0.0.0.0/0, ::0/0\n`,
    // a VPN provider: /32 and /128 addresses, a comment naming the device, CRLF line ends, tabs
    provider: `[Interface]\r\n# Device: Happy Otter\r\nPrivateKey\t=\t${e.priv}\r\nAddress = 10.64.12.34/32,fc00:bbbb:bbbb:bb01::1:c22/128\r\nDNS = 10.64.0.1\r\n\r\n[Peer]\r\nPublicKey = ${f.pub}\r\nAllowedIPs = 0.0.0.0/0,::0/0\r\nEndpoint = [2001:db8:5::80]:51820\r\n`,
  };
}

/** The S3 office relay: the tunnel subnet and the other office's LAN, two relays, a name comment. */
function officeFile() {
  const me = keyPair();
  const relay = keyPair();
  const backup = keyPair();
  const text =
    `# Office B, issued by the relay\n[Interface]\nprivatekey = ${me.priv}\nADDRESS = 10.70.0.2/16\nMTU = 1380\n` +
    `PostUp = iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\nTable = off\n\n` +
    `# Name = main relay\n[Peer]\nPublicKey = ${relay.pub}\nPresharedKey = ${psk()}\nAllowedIPs = 10.70.0.0/17, 192.168.200.0/24\nEndpoint = relay.example.net:51820\n\n` +
    `[Peer]\n# backup relay\nPublicKey = ${backup.pub}\nAllowedIPs = 10.70.128.0/17\nEndpoint = 198.51.100.9:4500\nPersistentKeepalive = 15\n`;
  return { text, me, relay, backup };
}

describe("import: a relay's wg-quick file becomes an interface that dials out", () => {
  test("the office file: interface, one section per peer, the zone, no WAN rule, notes for what is not carried out", () => {
    const r = router();
    const { text, me, relay, backup } = officeFile();
    const res = r.call("import", { interface: "wg1", config: text, zone: "lan" });
    expect(res.error, JSON.stringify(res)).toBeUndefined();
    expect(res.role).toBe("client");
    expect(res.public_key).toBe(wg(["pubkey"], me.priv + "\n"));
    expect(opts(r, "network", "wg1")).toEqual({ proto: "wireguard", private_key: me.priv, addresses: ["10.70.0.2/16"], mtu: "1380" });
    expect(opts(r, "network", "wg1_relay")).toMatchObject({
      description: "main relay",
      public_key: relay.pub,
      allowed_ips: ["10.70.0.0/17", "192.168.200.0/24"],
      route_allowed_ips: "1",
      endpoint_host: "relay.example.net",
      endpoint_port: "51820",
      persistent_keepalive: "25", // none in the file: an outbound peer behind NAT needs one
    });
    expect(opts(r, "network", "wg1_relay").preshared_key).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(opts(r, "network", "wg1_relay2")).toMatchObject({ description: "backup relay", public_key: backup.pub, endpoint_host: "198.51.100.9", endpoint_port: "4500", persistent_keepalive: "15" });
    expect(r.section("firewall", "wgmgr_wg1_handshake")).toBeUndefined();
    expect(r.sections("firewall").find((s) => s.options.name === "lan")?.options.network).toEqual(["lan", "wg1"]);
    const notes = res.warnings.map((w: { message: string }) => w.message).join("\n");
    expect(notes).toContain("Line 6: wgmgr never runs commands from a file: PostUp is ignored.");
    expect(notes).toContain("Line 7: netifd routes the tunnel's networks itself");
    // get and status say what it is.
    const got = r.call("get", { interface: "wg1" }).interfaces[0];
    expect(got.role).toBe("client");
    expect(got.peers.map((p: any) => [p.name, p.endpoint])).toEqual([["main relay", "relay.example.net:51820"], ["backup relay", "198.51.100.9:4500"]]);
    expect(r.call("status", { interface: "wg1" }).interfaces[0].role).toBe("client");
    // A server is set up, not imported over: setup refuses the dial-out interface.
    expect(r.call("setup", { interface: "wg1", listen_port: 51821 })).toMatchObject({ error: "CONFLICT", field: "interface" });
  });

  test("files as real tools write them are read (keys in any case, CRLF, tabs, comments, IPv6 endpoints)", () => {
    const r = router();
    const files = realWorldFiles();
    const easy = r.call("import", { interface: "wg1", config: files.wgEasy, zone: "own", default_route: "keep" });
    expect(easy.error, JSON.stringify(easy)).toBeUndefined();
    expect(opts(r, "network", "wg1_relay").persistent_keepalive).toBeUndefined(); // "0" in the file means off
    expect(opts(r, "wgmgr", "wg1").dns).toEqual(["1.1.1.1"]);
    expect(easy.warnings.map((w: { message: string }) => w.message).join(" ")).toContain("resolver is not changed");
    const pi = r.call("import", { interface: "wg2", config: files.pivpn, default_route: "keep" });
    expect(pi.error, JSON.stringify(pi)).toBeUndefined();
    expect(opts(r, "network", "wg2").addresses).toEqual(["10.6.0.2/24", "fd11:5ee:bad:c0de::2/64"]);
    expect(opts(r, "network", "wg2_relay").allowed_ips).toEqual(["0.0.0.0/0", "::/0"]);
    const vpn = r.call("import", { interface: "wg3", config: files.provider, zone: "own", default_route: "tunnel", name: "provider" });
    expect(vpn.error, JSON.stringify(vpn)).toBeUndefined();
    expect(opts(r, "network", "wg3_relay")).toMatchObject({ endpoint_host: "2001:db8:5::80", endpoint_port: "51820", description: "provider" });
    expect(opts(r, "network", "wg3").addresses).toEqual(["10.64.12.34/32", "fc00:bbbb:bbbb:bb01::1:c22/128"]);
  });

  test("a full-tunnel file needs an explicit choice; keep and tunnel each do what they say", () => {
    const r = router();
    const { wgEasy } = realWorldFiles();
    const before = r.snapshot();
    const sections = { network: r.sections("network"), firewall: r.sections("firewall") };
    expect(r.call("import", { interface: "wg1", config: wgEasy })).toMatchObject({ error: "CHOICE_REQUIRED", field: "default_route" });
    expect(r.call("import", { interface: "wg1", config: wgEasy, default_route: "tunnel" })).toMatchObject({ error: "INVALID_ARGUMENT", field: "zone" });
    expect(r.snapshot()).toEqual(before);
    // keep: the /0 stays the peer's (WireGuard accepts what comes back) but netifd routes none of it.
    r.call("import", { interface: "wg1", config: wgEasy, default_route: "keep" });
    expect(opts(r, "network", "wg1").defaultroute).toBe("0");
    expect(r.sections("network").filter((s) => s.type.startsWith("route"))).toEqual([]);
    // tunnel: the /1 halves through the tunnel, the /0 not, the zone masquerades.
    r.call("teardown", { interface: "wg1" });
    const t = r.call("import", { interface: "wg1", config: wgEasy, default_route: "tunnel", zone: "own" });
    expect(t.error, JSON.stringify(t)).toBeUndefined();
    const routes = r.sections("network").filter((s) => s.type.startsWith("route")).map((s) => [s.type, s.options.target, s.options.interface]);
    expect(routes).toEqual([
      ["route", "0.0.0.0/1", "wg1"],
      ["route", "128.0.0.0/1", "wg1"],
      ["route6", "::/1", "wg1"],
      ["route6", "8000::/1", "wg1"],
    ]);
    expect(opts(r, "firewall", "wgmgr_wg1_zone").masq).toBe("1");
    expect(r.call("get", { interface: "wg1" }).interfaces[0].default_route).toBe("tunnel");
    // teardown leaves nothing of it behind
    r.call("teardown", { interface: "wg1" });
    expect(r.sections("network")).toEqual(sections.network);
    expect(r.sections("firewall")).toEqual(sections.firewall);
  });

  test("broken files: a structured error naming the line, nothing written", () => {
    const r = router();
    const { text } = officeFile();
    const lines = text.split("\n");
    const cases: [string, string, string][] = [
      ["", "MISSING_ARGUMENT", "config"],
      ["PrivateKey = x\n", "INVALID_CONFIG", "config:1"],
      [text.replace("[Interface]", "[Interfaces]"), "INVALID_CONFIG", "config:2"],
      [text.replace(/privatekey = \S+/, "privatekey = not-a-key"), "INVALID_KEY", "config:3"],
      [text.replace("relay.example.net:51820", "relay.example.net"), "INVALID_ENDPOINT", `config:${lines.findIndex((l) => l.includes("relay.example.net")) + 1}`],
      [text.replace("192.168.200.0/24", "192.168.200.0/0"), "INVALID_PREFIX", `config:${lines.findIndex((l) => l.includes("192.168.200.0/24")) + 1}`],
      [text.replace("MTU = 1380", "Mtu = 99"), "INVALID_MTU", "config:5"],
      [text.replace("MTU = 1380", "Foo = bar"), "INVALID_CONFIG", "config:5"],
      [text.replace(/PublicKey = \S+\nAllowedIPs = 10.70.128.0\/17/, "AllowedIPs = 10.70.128.0/17"), "INVALID_CONFIG", `config:${lines.findIndex((l, i) => l === "[Peer]" && i > 12) + 1}`],
      [text.split("\n[Peer]")[0], "INVALID_CONFIG", `config:${text.split("\n[Peer]")[0].split("\n").length}`],
      // the router's own LAN through the relay would cut it off
      [text.replace("192.168.200.0/24", "192.168.1.0/24"), "OVERLAP", `config:${lines.findIndex((l) => l.includes("192.168.200.0/24")) + 1}`],
      // the tunnel's address inside the LAN
      [text.replace("10.70.0.2/16", "192.168.1.77/24"), "SUBNET_CONFLICT", "config:4"],
      // two relays claiming one network
      [text.replace("10.70.128.0/17", "10.70.0.0/16"), "OVERLAP", `config:${lines.findIndex((l) => l.includes("10.70.128.0/17")) + 1}`],
    ];
    const before = r.snapshot();
    for (const [config, code, field] of cases) {
      const e = r.call("import", { interface: "wg1", config });
      expect(e, JSON.stringify(e) + "\n" + config).toMatchObject({ error: code, field });
      expect(e.message.length).toBeGreaterThan(10);
    }
    expect(r.call("import", { interface: "lan", config: text })).toMatchObject({ error: "ALREADY_EXISTS", field: "interface" });
    expect(r.snapshot()).toEqual(before);
  });
});

describe("the DDNS watchdog follows relays dialled by name", () => {
  test("scheduled in root's crontab while a relay is a name, removed with the last one", () => {
    const r = router();
    const { text } = officeFile();
    r.call("import", { interface: "wg1", config: text });
    expect(crontab(r)).toBe("* * * * * /usr/bin/wireguard_watchdog # wgmgr: follows relays whose endpoint is a name\n");
    expect(r.commands()).toEqual(expect.arrayContaining(["/etc/init.d/cron enable", "/etc/init.d/cron restart"]));
    // The user's own jobs are kept; a second change does not add the line twice.
    writeFileSync(join(r.dir, "crontabs/root"), "0 4 * * * /sbin/reboot\n" + crontab(r));
    r.call("update_peer", { interface: "wg1", peer: "backup relay", keepalive: 20 });
    expect(crontab(r).match(/wireguard_watchdog/g)).toHaveLength(1);
    // A relay by IP address needs no watchdog.
    r.call("update_peer", { interface: "wg1", peer: "main relay", enabled: false });
    expect(crontab(r)).toBe("0 4 * * * /sbin/reboot\n");
    r.call("update_peer", { interface: "wg1", peer: "main relay", enabled: true });
    expect(crontab(r)).toContain("wireguard_watchdog");
    r.call("teardown", { interface: "wg1" });
    expect(crontab(r)).toBe("0 4 * * * /sbin/reboot\n");
  });
});

describe("the router as the hub of sites and remote workers (S3b)", () => {
  test("a site's config carries the other sites and the LAN; adding a site says who needs a new config", () => {
    const r = router();
    r.call("setup", { listen_port: 51820, address: "10.70.0.1/24", endpoint_host: "hub.example.net" });
    const worker = r.call("add_peer", { name: "worker", tunnel: "split" });
    const a = r.call("add_peer", { name: "office A", tunnel: "split", subnets: ["192.168.200.0/24"] });
    expect(a.warnings.map((w: { message: string }) => w.message).join(" ")).toContain("give these devices their configuration again: worker");
    const b = r.call("add_peer", { name: "office B", tunnel: "split", subnets: ["192.168.201.0/24"] });
    expect(b.warnings.map((w: { message: string }) => w.message).join(" ")).toContain("worker, office A");
    const allowed = (name: string) => /AllowedIPs = (.*)/.exec(r.call("peer_config", { peer: name }).config)![1].split(", ");
    expect(allowed("office A")).toEqual(["10.70.0.0/24", "192.168.1.0/24", "192.168.201.0/24"]);
    expect(allowed("office B")).toEqual(["10.70.0.0/24", "192.168.1.0/24", "192.168.200.0/24"]);
    expect(allowed("worker")).toEqual(["10.70.0.0/24", "192.168.1.0/24", "192.168.200.0/24", "192.168.201.0/24"]);
    expect(worker.error).toBeUndefined();
    // The router routes between them: each site's networks are routed to it.
    expect(opts(r, "network", a.peer.id)).toMatchObject({ route_allowed_ips: "1", allowed_ips: ["10.70.0.3/32", "192.168.200.0/24"] });
    // A site's networks change, and a site goes: the others are told.
    expect(r.call("update_peer", { peer: "office B", subnets: ["192.168.202.0/24"] }).warnings.map((w: { message: string }) => w.message).join(" ")).toContain("worker, office A");
    expect(r.call("remove_peer", { peer: "office A" }).warnings.map((w: { message: string }) => w.message).join(" ")).toContain("worker, office B");
    expect(r.call("update_peer", { peer: "worker", keepalive: 0 }).warnings.map((w: { message: string }) => w.message).join(" ")).not.toContain("configuration again");
  });
});

describe("side routers (S4): masquerade, or the return route", () => {
  test("defaults says why the router looks like a side router and gives the return route", () => {
    const net = readFileSync(join(import.meta.dirname, "../fixtures/openwrt-defaults/network"), "utf8").replace(
      "option ip6assign '60'",
      "option ip6assign '60'\n\toption gateway '192.168.1.254'",
    );
    const r = router({ network: net, dhcp: "config dhcp 'lan'\n\toption interface 'lan'\n\toption ignore '1'\n" });
    const d = r.call("defaults", {});
    expect(d.side_router.reasons.map((w: { message: string }) => w.message).join(" ")).toContain("gateway (192.168.1.254)");
    expect(d.side_router.reasons.map((w: { message: string }) => w.message).join(" ")).toContain("DHCP server is off");
    expect(d.side_router.return_routes).toEqual(["192.168.100.0/24 via 192.168.1.1"]);
    // A plain router (the OpenWrt defaults) is no side router.
    expect(router().call("defaults", {}).side_router).toBeUndefined();
  });

  test("masquerade: a nat section of wgmgr's for the tunnel subnet into the LAN; off and teardown remove it", () => {
    const r = router();
    const before = r.sections("firewall");
    r.call("setup", { address: "192.168.100.1/24", masquerade: true });
    expect(opts(r, "firewall", "wgmgr_wg0_masq")).toEqual({
      name: "wgmgr-wg0-masquerade",
      family: "ipv4",
      src: "lan",
      src_ip: "192.168.100.0/24",
      dest_ip: "!192.168.100.0/24",
      proto: "all",
      target: "MASQUERADE",
    });
    expect(r.call("get").interfaces[0].masquerade).toBe(true);
    // A new subnet is masqueraded in its turn; the choice stays as it was.
    r.call("setup", { address: "10.9.0.1/24" });
    expect(opts(r, "firewall", "wgmgr_wg0_masq").src_ip).toBe("10.9.0.0/24");
    r.call("setup", { masquerade: false });
    expect(r.section("firewall", "wgmgr_wg0_masq")).toBeUndefined();
    r.call("setup", { masquerade: true });
    r.call("teardown", {});
    expect(r.sections("firewall")).toEqual(before);
  });
});

// The test appliers themselves (no root needed): the netifd stand-in maps UCI the way
// OpenWrt's WireGuard handler does (shared/docs/anchors.md §b), and the wg-quick
// stand-in strips what `wg-quick strip` strips. The end-to-end tests rely on both.
import { describe, expect, test } from "vitest";
import { netifdPlan, networkCidr, parseUci, routeArgs } from "./netifd";
import { parseWgQuick } from "./wgquick";

const NETWORK = `
config interface 'lan'
	option proto 'static'
	option ipaddr '192.168.1.1'

config interface 'wgt'
	option proto 'wireguard'
	option private_key 'PRIV='
	option listen_port '51820'
	list addresses '10.0.0.1/24'
	list addresses 'fd00::1/64'
	list addresses '10.0.1.1'
	option mtu '1412'
	option fwmark '0x10'

# a comment line
config wireguard_wgt 'a'
	option description 'It'\\''s mine'
	option public_key 'KEYA='
	option preshared_key 'PSKA='
	list allowed_ips '10.0.0.2/32'
	list allowed_ips '192.168.50.7/24'
	list allowed_ips 'fd00::2'
	option route_allowed_ips '1'
	option endpoint_host 'fd00:1::1'
	option persistent_keepalive '25'

config wireguard_wgt 'b'
	option public_key "KEYB="
	list allowed_ips '10.0.0.3/32'
	option endpoint_host 'vpn.example.net'
	option endpoint_port '1234'

config wireguard_wgt 'off'
	option public_key 'KEYC='
	list allowed_ips '10.0.0.4/32'
	option route_allowed_ips '1'
	option disabled '1'

config wireguard_wgt
	list allowed_ips '10.0.0.9/32'

config wireguard_other 'x'
	option public_key 'KEYX='

config route 'r1'
	option interface 'wgt'
	option target '192.168.200.0'
	option netmask '255.255.255.0'
	option gateway '10.0.0.2'
	option metric '5'

config route6 'r2'
	option interface 'wgt'
	option target 'fd99::/48'

config route 'r3'
	option interface 'lan'
	option target '1.2.3.0/24'
`;

describe("UCI text parser", () => {
  test("sections, anonymous names, options, lists, quoting", () => {
    const s = parseUci(NETWORK);
    expect(s.map((x) => x.name)).toEqual(["lan", "wgt", "a", "b", "off", "@wireguard_wgt[3]", "x", "r1", "r2", "r3"]);
    const a = s.find((x) => x.name === "a")!;
    expect(a.options.description).toBe("It's mine");
    expect(a.options.allowed_ips).toEqual(["10.0.0.2/32", "192.168.50.7/24", "fd00::2"]);
    expect(s.find((x) => x.name === "b")!.options.public_key).toBe("KEYB=");
    expect(parseUci(`config a 'b'\n\toption x "q\\"uo te" # trailing\n\toption y bare\\ word`)[0].options).toEqual({ x: 'q"uo te', y: "bare word" });
  });
});

describe("netifd stand-in (anchors.md §b)", () => {
  const plan = netifdPlan(parseUci(NETWORK), "wgt");

  test("one wg setconf file: interface keys, enabled peers with a key, one AllowedIPs line each", () => {
    expect(plan.wgConfig).toBe(
      [
        "[Interface]",
        "PrivateKey=PRIV=",
        "ListenPort=51820",
        "FwMark=0x10",
        "[Peer]",
        "PublicKey=KEYA=",
        "PresharedKey=PSKA=",
        "AllowedIPs=10.0.0.2/32",
        "AllowedIPs=192.168.50.7/24",
        "AllowedIPs=fd00::2",
        "Endpoint=[fd00:1::1]:51820",
        "PersistentKeepalive=25",
        "[Peer]",
        "PublicKey=KEYB=",
        "AllowedIPs=10.0.0.3/32",
        "Endpoint=vpn.example.net:1234",
        "",
      ].join("\n"),
    );
    expect(plan.skippedPeers).toEqual([
      { section: "off", reason: "disabled" },
      { section: "@wireguard_wgt[3]", reason: "no public_key" },
    ]);
    expect(plan.mtu).toBe(1412);
    expect(plan.autostart).toBe(true);
    expect(plan.hostRoutes).toBe(true);
  });

  test("addresses: bare ones get /32 and /128", () => {
    expect(plan.addresses).toEqual([
      { family: 4, cidr: "10.0.0.1/24" },
      { family: 6, cidr: "fd00::1/64" },
      { family: 4, cidr: "10.0.1.1/32" },
    ]);
  });

  test("routes: one on-link route per allowed IP of route_allowed_ips peers, plus the interface's config route sections", () => {
    expect(plan.routes.map((r) => routeArgs(r, "wgt").join(" "))).toEqual([
      "-4 route replace 10.0.0.2/32 dev wgt proto static",
      "-4 route replace 192.168.50.0/24 dev wgt proto static",
      "-6 route replace fd00::2/128 dev wgt proto static",
      "-4 route replace 192.168.200.0/24 via 10.0.0.2 dev wgt proto static metric 5",
      "-6 route replace fd99::/48 dev wgt proto static",
    ]);
  });

  test("defaultroute 0 drops /0 peer routes; metric and ip4table apply to the interface's routes", () => {
    const text = `config interface 'w'\n\toption proto 'wireguard'\n\toption defaultroute '0'\n\toption metric '7'\n\toption ip4table '100'\n` +
      `config wireguard_w\n\toption public_key 'K='\n\tlist allowed_ips '0.0.0.0/0'\n\tlist allowed_ips '10.9.0.0/16'\n\toption route_allowed_ips '1'\n`;
    const p = netifdPlan(parseUci(text), "w");
    expect(p.routes.map((r) => routeArgs(r, "w").join(" "))).toEqual(["-4 route replace 10.9.0.0/16 dev w proto static metric 7 table 100"]);
  });

  test("an interface that is disabled or not wireguard", () => {
    expect(netifdPlan(parseUci(`config interface 'w'\n\toption proto 'wireguard'\n\toption auto '0'\n`), "w").autostart).toBe(false);
    expect(() => netifdPlan(parseUci(NETWORK), "lan")).toThrow(/not wireguard/);
    expect(() => netifdPlan(parseUci(NETWORK), "nope")).toThrow(/no interface section/);
  });

  test("network addresses of CIDRs", () => {
    expect(networkCidr("fd00:1:2:3::5", 48, 6)).toBe("fd00:1:2::/48");
    expect(networkCidr("fd00:1:2:3::5", 32, 6)).toBe("fd00:1::/32");
    expect(networkCidr("2001:db8::1", 128, 6)).toBe("2001:db8::1/128");
    expect(networkCidr("10.1.2.3", 8, 4)).toBe("10.0.0.0/8");
    expect(networkCidr("::ffff:10.1.2.3", 120, 6)).toBe("::ffff:a01:200/120");
  });
});

describe("wg-quick stand-in", () => {
  test("strips Address, DNS and MTU like `wg-quick strip`, keeps the rest for wg setconf", () => {
    const c = parseWgQuick(
      "# iPhone\n[Interface]\nPrivateKey = PRIV=\naddress = 10.0.0.2/32, fd00::2/128\nDNS = 192.168.1.1\nMTU = 1400\n\n[Peer]\nPublicKey = PUB=\nAllowedIPs = 0.0.0.0/0, ::/0\nEndpoint = 203.0.113.1:8890 # the router\n",
    );
    expect(c.stripped).toBe("# iPhone\n[Interface]\nPrivateKey = PRIV=\n\n[Peer]\nPublicKey = PUB=\nAllowedIPs = 0.0.0.0/0, ::/0\nEndpoint = 203.0.113.1:8890 # the router\n");
    expect(c.addresses).toEqual(["10.0.0.2/32", "fd00::2/128"]);
    expect(c.dns).toEqual(["192.168.1.1"]);
    expect(c.mtu).toBe(1400);
    expect(c.interface.privatekey).toBe("PRIV=");
    expect(c.peers).toEqual([{ publickey: "PUB=", allowedips: "0.0.0.0/0, ::/0", endpoint: "203.0.113.1:8890" }]);
  });

  test("a config whose private key was not kept has no PrivateKey", () => {
    const c = parseWgQuick("[Interface]\n# The router did not keep this device's private key\n# PrivateKey = \nAddress = 10.0.0.2/32\n");
    expect(c.interface.privatekey).toBeUndefined();
  });
});

// Input the API must refuse or normalise (issue 7, section 4): each case a structured error
// naming the field with nothing written, or the corrected behaviour. The plugin runs
// against the simulated router (test/sim): nothing here reaches the host's network.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { REPO, routerForTest, TestRouter } from "../lib/router";

const router = (files?: Record<string, string>): TestRouter => routerForTest({ files });

/** A router with wg0 on 192.168.100.1/24 and the given devices. */
function withServer(...names: string[]): TestRouter {
  const r = router();
  expect(r.call("setup", { listen_port: 8890, address: "192.168.100.1/24" }).error).toBeUndefined();
  for (const name of names) expect(r.call("add_peer", { name }).error).toBeUndefined();
  return r;
}

/** The call is refused with `code` on `field`, and no config file changed. */
function refused(r: TestRouter, method: string, args: unknown, code: string, field: string) {
  const before = r.snapshot();
  const reply = r.call(method, args);
  expect(reply, JSON.stringify(reply)).toMatchObject({ error: code, field });
  expect(r.snapshot()).toEqual(before);
  return reply;
}

const opts = (r: TestRouter, section: string) => r.section("network", section)?.options ?? {};

describe("arguments are declared once: list, reading and the README agree", () => {
  test("an unknown argument is refused with the accepted names, and changes nothing", () => {
    const r = withServer();
    const e = refused(r, "setup", { listenport: 9999 }, "UNKNOWN_ARGUMENT", "listenport");
    expect(e.message).toContain("listen_port");
    refused(r, "add_peer", { name: "x", endpoint: "vpn.example.net:51820" }, "UNKNOWN_ARGUMENT", "endpoint");
    // The session id uhttpd adds is accepted everywhere.
    expect(r.call("get", { ubus_rpc_session: "0123456789abcdef0123456789abcdef" }).error).toBeUndefined();
  });

  test("the README's API section names exactly the arguments `list` declares", () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const api = readme.slice(readme.indexOf("## ubus API"));
    const documented: Record<string, string[]> = {};
    for (const line of api.split("\n").filter((l) => l.startsWith("### "))) {
      for (const [, method, body] of line.matchAll(/(\w+) `\{([^}]*)\}`/g)) {
        documented[method] = body
          .split(/,|\|(?![^\[]*\])/)
          .map((a) => a.trim().replace(/[?=].*$/, ""))
          .filter((a) => /^\w+$/.test(a));
      }
    }
    const sig = withServer().list();
    expect(Object.keys(documented).sort()).toEqual(Object.keys(sig).sort());
    for (const [method, args] of Object.entries(sig)) {
      expect([...new Set(documented[method])].sort(), `README for ${method}`).toEqual(Object.keys(args).sort());
    }
  });
});

describe("routes that cannot work or would hijack traffic are refused", () => {
  test("the default route, a LAN, the tunnel itself; a gateway outside the tunnel", () => {
    const r = withServer("PC");
    refused(r, "add_route", { target: "0.0.0.0/0" }, "DEFAULT_ROUTE", "target");
    refused(r, "add_route", { target: "::/0" }, "DEFAULT_ROUTE", "target");
    refused(r, "add_route", { target: "192.168.1.0/24" }, "OVERLAP", "target"); // the LAN itself
    refused(r, "add_route", { target: "192.168.0.0/16" }, "OVERLAP", "target"); // contains the LAN
    refused(r, "add_route", { target: "192.168.1.128/25" }, "OVERLAP", "target"); // inside the LAN
    refused(r, "add_route", { target: "192.168.100.0/24" }, "OVERLAP", "target"); // the tunnel subnet
    refused(r, "add_route", { target: "192.168.200.0/24", gateway: "10.1.2.3" }, "INVALID_GATEWAY", "gateway");
    refused(r, "add_route", { target: "192.168.200.0/24", replace_default: true }, "INVALID_ARGUMENT", "replace_default");
    // A server whose devices dial in cannot carry the default route: its answers would loop.
    refused(r, "add_route", { target: "0.0.0.0/0", replace_default: true }, "ENDPOINT_UNREACHABLE", "replace_default");
    // A route to a network behind the PC, through the PC, is fine.
    expect(r.call("add_route", { target: "192.168.200.0/24", gateway: "192.168.100.2" }).error).toBeUndefined();
  });

  test("replace_default on a tunnel that dials out to a fixed endpoint (netifd pins a host route to it)", () => {
    const r = withServer();
    const net = r.file("network") + `
config wireguard_wg0 'wg0_relay'
	option description 'relay'
	option public_key 'e++EP53PQnMQhMcJ0dJd9cvnGIl+gxJEx9a8EtSJuCY='
	list allowed_ips '0.0.0.0/0'
	option endpoint_host 'vpn.example.net'
	option endpoint_port '51820'
`;
    writeFileSync(`${r.confdir}/network`, net);
    const ok = r.call("add_route", { target: "0.0.0.0/0", replace_default: true });
    expect(ok.error, JSON.stringify(ok)).toBeUndefined();
    expect(ok.route.target).toBe("0.0.0.0/0");
  });
});

describe("IPv6 tunnel addresses", () => {
  test("only global unicast and ULA addresses are accepted", () => {
    const r = withServer();
    for (const bad of ["ff02::1/64", "fe80::1/64", "::ffff:192.168.1.1/120", "::1/64"]) refused(r, "setup", { address6: bad }, "INVALID_ADDRESS", "address6");
    expect(r.call("setup", { address6: "fd00:100::1/64" }).error).toBeUndefined();
    expect(r.call("setup", { address6: "2001:db8:100::1/64" }).error).toBeUndefined();
  });

  test('address6 "" removes the IPv6 tunnel and the devices\' IPv6 addresses', () => {
    const r = withServer();
    r.call("setup", { address6: "fd00:100::1/64" });
    const phone = r.call("add_peer", { name: "phone" });
    expect(phone.peer.addresses).toEqual(["192.168.100.2/32", "fd00:100::2/128"]);
    const done = r.call("setup", { address6: "" });
    expect(done.error).toBeUndefined();
    expect(opts(r, "wg0").addresses).toEqual(["192.168.100.1/24"]);
    expect(opts(r, phone.peer.id).allowed_ips).toEqual(["192.168.100.2/32"]);
    expect(r.call("peer_config", { peer: "phone" }).config).toContain("Address = 192.168.100.2/32\n");
    // null changes nothing (JSON null is "not given").
    expect(r.call("setup", { address6: null }).changes).toEqual([]);
  });

  test("defaults suggests a /64 from the router's ULA prefix (network.globals.ula_prefix)", () => {
    const r = router();
    const d = r.call("defaults", {});
    expect(d.address).toBe("192.168.100.1/24");
    expect(d.address6).toBe("fd5e:1c2a:9b7d:64::1/64");
    // Accepted as it is by setup.
    expect(r.call("setup", { address: d.address, address6: d.address6 }).error).toBeUndefined();
  });
});

describe("text that is not UTF-8 never gets in, and never comes out", () => {
  test("raw bytes and a lone surrogate in a name are refused, naming the field", () => {
    const r = withServer();
    const bytes = Buffer.concat([Buffer.from('{"name":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    refused(r, "add_peer", bytes, "INVALID_UTF8", "name");
    refused(r, "add_peer", '{"name":"a\\ud800"}', "INVALID_ARGUMENT", "name");
    refused(r, "add_peer", '{"name":"a\\udc00b"}', "INVALID_ARGUMENT", "name");
    // A surrogate pair is a character (U+1F642).
    expect(r.call("add_peer", { name: "smile \u{1F642}" }).peer.name).toBe("smile \u{1F642}");
  });

  test("a hand-edited config with bad bytes still gives a valid UTF-8 reply", () => {
    const r = withServer("phone");
    const net = readFileSync(`${r.confdir}/network`);
    const bad = Buffer.from(net.toString("latin1").replace("option description 'phone'", "option description 'ph\xffone'"), "latin1");
    writeFileSync(`${r.confdir}/network`, bad);
    const raw = r.raw(["call", "get"], "{}");
    const text = new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(raw.stdout, "utf8"));
    expect(JSON.parse(text).interfaces[0].peers[0].name).toBe("ph\uFFFDone");
  });
});

describe("device names", () => {
  test("trimmed, compared without regard to ASCII case, free of controls and direction marks", () => {
    const r = withServer("iPhone");
    expect(r.call("add_peer", { name: "  iPad \u3000" }).peer.name).toBe("iPad");
    refused(r, "add_peer", { name: "IPHONE" }, "ALREADY_EXISTS", "name");
    refused(r, "add_peer", { name: "   " }, "INVALID_NAME", "name");
    refused(r, "add_peer", { name: "evil\u202Egpj.exe" }, "INVALID_NAME", "name");
    refused(r, "update_peer", { peer: "iPad", name: "iphone" }, "ALREADY_EXISTS", "name");
    // Renaming a device to its own name in another case is fine.
    expect(r.call("update_peer", { peer: "iPad", name: "IPAD" }).peer.name).toBe("IPAD");
  });

  test("a name cannot be another device's id or public key; a peer argument finds the id first", () => {
    const r = withServer("pc", "phone");
    const pc = r.call("get").interfaces[0].peers.find((p: any) => p.name === "pc");
    expect(pc.id).toBe("wg0_pc");
    refused(r, "add_peer", { name: "wg0_pc" }, "NAME_CONFLICT", "name");
    refused(r, "add_peer", { name: "WG0_PC" }, "NAME_CONFLICT", "name");
    refused(r, "update_peer", { peer: "phone", name: pc.public_key }, "NAME_CONFLICT", "name");
    expect(r.call("update_peer", { peer: "wg0_pc", keepalive: 0 }).peer.id).toBe("wg0_pc");
    // By name in another case, by public key.
    expect(r.call("peer_config", { peer: "PHONE" }).name).toBe("phone");
    expect(r.call("peer_config", { peer: pc.public_key }).name).toBe("pc");
  });

  test("names that differ only in case from before this rule: ambiguous by name, found by id", () => {
    const r = withServer("iphone");
    const net = r.file("network").replace(/config wireguard_wg0 'wg0_iphone'[\s\S]*$/, (m) => `${m}\nconfig wireguard_wg0 'wg0_old'\n\toption description 'IPHONE'\n\toption public_key 'e++EP53PQnMQhMcJ0dJd9cvnGIl+gxJEx9a8EtSJuCY='\n\tlist allowed_ips '192.168.100.9/32'\n`);
    writeFileSync(`${r.confdir}/network`, net);
    expect(r.call("peer_config", { peer: "iphone" }).peer).toBe("wg0_iphone"); // exact name
    expect(r.call("peer_config", { peer: "Iphone" })).toMatchObject({ error: "AMBIGUOUS", field: "peer" });
    expect(r.call("peer_config", { peer: "wg0_old" }).name).toBe("IPHONE");
  });

  test("the download keeps the user's name, in any language", () => {
    const r = withServer();
    const zh = r.call("add_peer", { name: "张三的手机" });
    expect(zh.filename).toBe("张三的手机.conf");
    expect(zh.config.startsWith("# 张三的手机\n")).toBe(true);
    expect(r.call("add_peer", { name: "Mom's PC: \"office\"" }).filename).toBe("Mom's PC office.conf");
    expect(r.call("peer_config", { peer: "张三的手机" }).filename).toBe("张三的手机.conf");
  });
});

describe("changing the tunnel subnet renumbers the devices", () => {
  test("same host numbers in the new subnet; each device is named as needing its config again", () => {
    const r = withServer("iPhone", "PC");
    r.call("update_peer", { peer: "PC", address: "192.168.100.77" });
    const moved = r.call("setup", { address: "10.9.0.1/24" });
    expect(moved.error).toBeUndefined();
    const warning = moved.warnings.map((w: { message: string }) => w.message).join(" ");
    expect(warning).toContain("iPhone (192.168.100.2 → 10.9.0.2)");
    expect(warning).toContain("PC (192.168.100.77 → 10.9.0.77)");
    expect(warning).toContain("configuration again");
    expect(opts(r, "wg0_iphone").allowed_ips).toEqual(["10.9.0.2/32"]);
    expect(r.call("peer_config", { peer: "PC" }).config).toContain("Address = 10.9.0.77/32");
    // A smaller subnet: host numbers that do not fit get the next free ones.
    const smaller = r.call("setup", { address: "10.9.1.1/29" });
    expect(smaller.error).toBeUndefined();
    expect(opts(r, "wg0_pc").allowed_ips).toEqual(["10.9.1.3/32"]);
    // A device's own network cannot become the tunnel.
    r.call("update_peer", { peer: "iPhone", subnets: ["10.20.0.0/24"] });
    refused(r, "setup", { address: "10.20.0.1/16" }, "SUBNET_CONFLICT", "address");
  });
});

describe("small points", () => {
  test("peer_config of a disabled device says it is disabled", () => {
    const r = withServer("PC");
    r.call("update_peer", { peer: "PC", enabled: false });
    const c = r.call("peer_config", { peer: "PC" });
    expect(c.enabled).toBe(false);
    expect(c.warnings.map((w: { message: string }) => w.message).join(" ")).toContain("disabled");
  });
});

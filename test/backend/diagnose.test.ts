// diagnose: a table of broken setups, one per check, each built from a healthy router on
// the OpenWrt defaults: exactly the expected finding, and applying its fix (the call it
// names) makes it go and leaves nothing else found. The plugin runs against the
// simulated router (test/sim) with its interfaces running: nothing reaches the host.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { routerForTest, TestRouter } from "../lib/router";
import { handshake, readLive, writeLive } from "../sim/sim.mjs";


interface Opts {
  wan?: string;
  dns?: Record<string, string>;
  files?: Record<string, string>;
}

/** A healthy router: wg0 on 51820, a public name that resolves to the WAN, one device that connected. */
function healthy(o: Opts = {}): TestRouter {
  const r = routerForTest({ live: true, wan: o.wan ?? "203.0.113.7", dns: o.dns ?? { "home.example.net": "203.0.113.7" }, files: o.files });
  expect(r.call("setup", { listen_port: 51820, address: "192.168.100.1/24", endpoint_host: "home.example.net" }).error).toBeUndefined();
  expect(r.call("add_peer", { name: "iPhone", tunnel: "full" }).error).toBeUndefined();
  connect(r, "iPhone");
  return r;
}

const live = (r: TestRouter) => join(r.dir, "live");
const connect = (r: TestRouter, peer: string) => expect(handshake(live(r), r.confdir, "wg0", peer)).toBe(true);
const findings = (r: TestRouter): any[] => {
  const d = r.call("diagnose", { interface: "wg0" });
  expect(d.error, JSON.stringify(d)).toBeUndefined();
  return d.findings;
};
const ids = (r: TestRouter) => findings(r).map((f) => f.id);

/** Rewrites a config file's text. */
function edit(r: TestRouter, config: string, fn: (text: string) => string): void {
  const p = join(r.confdir, config);
  writeFileSync(p, fn(existsSync(p) ? readFileSync(p, "utf8") : ""));
}

/** Drops one named section from a config file's text. */
const dropSection = (text: string, name: string): string =>
  text
    .split(/\n(?=config )/)
    .filter((s) => !new RegExp(`^config \\S+ '${name}'`).test(s.trim()))
    .join("\n");

/** Applies a finding's fix as a shell caller would. */
function applyFix(r: TestRouter, f: any): void {
  expect(f.fix, `${f.id} has a fix`).toBeDefined();
  const reply = r.call(f.fix.method, f.fix.args);
  expect(reply.error, JSON.stringify(reply)).toBeUndefined();
}

describe("diagnose", () => {
  test("a healthy router has nothing to say; the reply's form", () => {
    const r = healthy();
    expect(findings(r)).toEqual([]);
    expect(r.list().diagnose).toEqual({ interface: "wg0" });
    expect(r.call("diagnose", { interface: "wg7" })).toMatchObject({ error: "NOT_FOUND", field: "interface" });
  });

  // [id, how to break it, options for the router, whether the finding has a fix, the other
  // findings that are its consequences]
  const cases: [string, (r: TestRouter) => void, Opts?, boolean?, string[]?][] = [
    ["handshake_rule_missing", (r) => edit(r, "firewall", (t) => dropSection(t, "wgmgr_wg0_handshake"))],
    ["handshake_rule_disabled", (r) => edit(r, "firewall", (t) => t.replace("option name 'Allow-WireGuard-wg0'", "option name 'Allow-WireGuard-wg0'\n\toption enabled '0'"))],
    ["handshake_rule_wrong", (r) => edit(r, "firewall", (t) => t.replace("option dest_port '51820'", "option dest_port '51821'"))],
    [
      "handshake_rule_shadowed",
      (r) => edit(r, "firewall", (t) => t.replace("config rule 'wgmgr_wg0_handshake'", "config rule 'blocker'\n\toption name 'Block-UDP-high'\n\toption src 'wan'\n\toption proto 'udp'\n\toption dest_port '50000-60000'\n\toption target 'DROP'\n\nconfig rule 'wgmgr_wg0_handshake'")),
      {},
      false,
    ],
    ["no_zone", (r) => edit(r, "firewall", (t) => t.replace("\tlist network 'wg0'\n", ""))],
    [
      "zone_no_lan",
      (r) => {
        expect(r.call("setup", { zone: "own" }).error).toBeUndefined();
        edit(r, "firewall", (t) => dropSection(t, "wgmgr_wg0_to_lan"));
      },
      {},
      true,
      ["access_rules_stale"],
    ],
    ["endpoint_not_public", (r) => r.call("setup", { endpoint_host: "" }), { wan: "100.72.3.4" }, false],
    ["ddns_mismatch", () => undefined, { dns: { "home.example.net": "198.51.100.99" } }, false],
    ["no_endpoint", (r) => r.call("setup", { endpoint_host: "" }), { wan: "none" }, false],
    ["endpoint_family", (r) => r.call("setup", { endpoint_host: "2001:db8::7" }), {}, false],
    ["subnet_overlap", (r) => edit(r, "network", (t) => t + "\nconfig interface 'guest'\n\toption proto 'static'\n\toption ipaddr '192.168.100.200'\n\toption netmask '255.255.255.0'\n"), {}, false],
    [
      "peer_overlap",
      (r) => {
        // a peer made in LuCI's own WireGuard page (an anonymous section), running
        edit(r, "network", (t) => t + "\nconfig wireguard_wg0\n\toption description 'handmade'\n\toption public_key 'e++EP53PQnMQhMcJ0dJd9cvnGIl+gxJEx9a8EtSJuCY='\n\tlist allowed_ips '192.168.100.0/28'\n");
        r.call("sync", { interface: "wg0" });
      },
      {},
      false,
      ["never_connected"],
    ],
    ["split_same_lan", (r) => {
      r.call("add_peer", { name: "laptop", tunnel: "split" });
      connect(r, "laptop");
    }],
    ["peer_no_key", (r) => edit(r, "network", (t) => t + "\nconfig wireguard_wg0\n\toption description 'no key'\n\tlist allowed_ips '192.168.100.77/32'\n")],
    [
      "out_of_sync",
      (r) => {
        const state = readLive(live(r), "wg0");
        state.peers = [];
        writeLive(live(r), state);
      },
      {},
      true,
      ["never_connected"],
    ],
    ["not_running", (r) => rmSync(join(live(r), "wg0.json"))],
    ["kmod_missing", (r) => {
      rmSync(join(live(r), "wg0.json"));
      rmSync(join(r.dir, "modules/wireguard"), { recursive: true });
    }, {}, false],
    ["mtu_pppoe", (r) => edit(r, "network", (t) => t.replace("config interface 'wan'\n\toption device 'wan'\n\toption proto 'dhcp'", "config interface 'wan'\n\toption device 'wan'\n\toption proto 'pppoe'"))],
    ["side_router", () => undefined, { files: { dhcp: "config dhcp 'lan'\n\toption interface 'lan'\n\toption ignore '1'\n" } }],
    ["peer_half_written", (r) => edit(r, "wgmgr", (t) => dropSection(t, "wg0_iphone"))],
    ["record_half_written", (r) => {
      edit(r, "network", (t) => dropSection(t, "wg0_iphone"));
      r.call("sync", { interface: "wg0" });
    }],
  ];

  for (const [id, breakIt, opts, fixable, also = []] of cases) {
    test(`${id}: found${fixable === false ? "" : ", and gone once its fix is applied"}`, () => {
      const r = healthy(opts);
      breakIt(r);
      const found = findings(r);
      expect(found.map((f) => f.id).sort(), JSON.stringify(found, null, 1)).toEqual([id, ...also].sort());
      const f = found.find((x) => x.id === id);
      expect(["error", "warning", "info"]).toContain(f.severity);
      expect(f.message.length).toBeGreaterThan(40);
      if (fixable === false) {
        expect(f.fix).toBeUndefined();
        return;
      }
      applyFix(r, f);
      // the sim's netifd may have restarted wg0, or the fix resynced it: the device connects again
      if (readLive(live(r), "wg0")?.peers.some((p: any) => p.latest_handshake === 0)) connect(r, "iPhone");
      if (id === "split_same_lan") connect(r, "laptop");
      expect(ids(r), `${id} gone, nothing new`).toEqual([]);
    });
  }

  test("a device that never connected, and one quiet for weeks, are mentioned (info, no fix)", () => {
    const r = healthy();
    r.call("add_peer", { name: "tablet" });
    const f = findings(r);
    expect(f.map((x) => [x.id, x.severity])).toEqual([["never_connected", "info"]]);
    expect(f[0].message).toContain('"tablet" has never connected');
    const state = readLive(live(r), "wg0");
    for (const p of state.peers) p.latest_handshake = Math.floor(Date.now() / 1000) - 30 * 86400;
    writeLive(live(r), state);
    expect(ids(r)).toEqual(["quiet", "quiet"]);
  });

  test("forks: one wg dump, one WAN status and the endpoint's name, nothing per device", () => {
    const r = healthy();
    for (let i = 0; i < 5; i++) r.call("add_peer", { name: `d${i}` });
    const before = r.commands().length;
    r.call("diagnose", { interface: "wg0" });
    expect(r.commands().slice(before)).toEqual(["wg show all dump", "ubus call network.interface.wan status", "nslookup home.example.net"]);
  });
});

describe("a change cut short between two config files (UCI commits one file at a time)", () => {
  // The plugin commits network, then firewall, then wgmgr: a device is never left
  // able to connect after its removal, and what an interruption leaves, diagnose repairs.
  const dieBefore = (r: TestRouter, config: string, method: string, args: object): void => {
    r.env.UCI_TEST_DIE_BEFORE_COMMIT = config;
    const out = r.raw(["call", method], JSON.stringify(args));
    delete r.env.UCI_TEST_DIE_BEFORE_COMMIT;
    expect(out.status, "the plugin died mid-change").toBe(137);
  };

  test("an add cut short leaves a working device without its record: diagnose writes the record", () => {
    const r = healthy();
    dieBefore(r, "wgmgr", "add_peer", { name: "laptop", tunnel: "split" });
    expect(r.section("network", "wg0_laptop")).toBeDefined();
    expect(r.section("wgmgr", "wg0_laptop")).toBeUndefined();
    const f = findings(r).find((x) => x.id === "peer_half_written")!;
    expect(f.message).toContain('"laptop"');
    applyFix(r, f);
    expect(r.section("wgmgr", "wg0_laptop")?.options).toMatchObject({ interface: "wg0", tunnel: "full" });
    expect(ids(r).filter((x) => x === "peer_half_written")).toEqual([]);
  });

  test("a removal cut short leaves only wgmgr's record (the device can no longer connect): diagnose removes it", () => {
    const r = healthy();
    dieBefore(r, "wgmgr", "remove_peer", { peer: "iPhone" });
    expect(r.section("network", "wg0_iphone")).toBeUndefined();
    const f = findings(r).find((x) => x.id === "record_half_written")!;
    applyFix(r, f);
    expect(r.section("wgmgr", "wg0_iphone")).toBeUndefined();
  });

  test("under per-device policy, a device cut short before its record reaches nothing, and is repaired with the least access", () => {
    const r = healthy();
    expect(r.call("setup", { zone: "own" }).error).toBeUndefined();
    expect(r.call("add_peer", { name: "tv", access: "internet" }).error).toBeUndefined();
    dieBefore(r, "wgmgr", "add_peer", { name: "cam", access: ["192.168.1.10:554/tcp"] });
    // Its rules were committed, its record was not: it must not be let through on them.
    expect(r.section("firewall", "wgmgr_wg0_cam_to1")).toBeDefined();
    const found = findings(r);
    // (out_of_sync: it died before the running interface was updated too)
    expect(found.map((x) => x.id).sort()).toEqual(["access_rules_stale", "never_connected", "never_connected", "out_of_sync", "peer_half_written"]);
    applyFix(r, found.find((x) => x.id === "access_rules_stale"));
    expect(r.section("firewall", "wgmgr_wg0_cam_to1"), "no rule for a device wgmgr has no record of").toBeUndefined();
    const half = findings(r).find((x) => x.id === "peer_half_written")!;
    expect(half.fix.args).toEqual({ interface: "wg0", peer: "wg0_cam", access: "router" });
    applyFix(r, half);
    expect(r.section("wgmgr", "wg0_cam")?.options.access).toBe("router");
    expect(r.section("firewall", "wgmgr_wg0_cam_icmp")).toBeDefined();
    // and the running interface, which the interrupted add never reached
    applyFix(r, findings(r).find((x) => x.id === "out_of_sync"));
    expect(ids(r).filter((x) => x !== "never_connected")).toEqual([]);
  });
});

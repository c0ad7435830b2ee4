// Per-device access (S6) with real traffic: the plugin (run in the router namespace as a
// shell caller, its ubus answered by the netifd stand-in) sets up wg0 in a zone of its own
// and four devices, firewall4 renders the firewall config the plugin wrote
// (WGMGR_REAL_FW4), the ruleset is loaded with nft into the router namespace, and each
// device brings up the configuration peer_config gave it. Skipped, loudly, without fw4,
// root, nft or what test/e2e needs.
//
//   devices (one namespace each, on the WAN bridge)      router ns            LAN host 192.168.1.10
//   "lan": the LAN and the Internet                     wg0 192.168.100.1/24       and 192.168.1.11
//   "one host": 192.168.1.10:8080/tcp only               fw4's ruleset
//   "internet": the Internet, nothing on the LAN                                 "the Internet":
//   "router": the router only                                                   198.51.100.7 (WAN side)
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Netifd, parseUci } from "../e2e/netifd";
import { ok, pluginIn, routerEnv } from "../e2e/live";
import { inNamespace, ipn, missingCapability, nsExec, poll } from "../e2e/sys";
import { LANHOST, ROUTER_WAN, Topology, pingOnce } from "../e2e/topology";
import { wgQuickUp } from "../e2e/wgquick";
import { fw4Check, fw4Missing, fw4Print, type Ifaces, loadRuleset } from "../lib/fw4";
import { Reply, TestRouter } from "../lib/router";

const nftMissing = (): string | undefined => (spawnSync("sh", ["-c", "command -v nft"]).status === 0 ? undefined : "'nft' is not installed");
const skipReason = fw4Missing() ?? missingCapability() ?? nftMissing();
if (skipReason) {
  console.warn(`\n${"!".repeat(78)}\n!! wgmgr access: SKIPPING the per-device access tests with real firewall4: ${skipReason}.\n${"!".repeat(78)}\n`);
}

const LAN_OTHER = "192.168.1.11";
const INTERNET = "198.51.100.7"; // beyond the router's WAN, not on the devices' own network
const PORT = 8080;
const WAIT = 12_000;

describe.skipIf(skipReason !== undefined).sequential("per-device access, enforced by the real firewall4", () => {
  const topo = new Topology();
  let router: TestRouter;
  let netifd: Netifd;
  let env: Record<string, string>;
  const listeners: ChildProcess[] = [];
  const devices: Record<string, string> = {}; // access → namespace
  const call = (method: string, input: Record<string, unknown>): Promise<Reply> => pluginIn(topo.router, env, method, { interface: "wg0", ...input });

  /** fw4's rendering of what the plugin committed, loaded into the router; fw4 check must pass. */
  const applyFirewall = (): void => {
    const ifaces: Ifaces = {
      lan: { device: "br-lan", ipv4: ["192.168.1.1/24"] },
      wan: { device: "wan", ipv4: [`${ROUTER_WAN}/24`] },
      wan6: "wan",
      wg0: { device: "wg0", ipv4: ["192.168.100.1/24"] },
    };
    const check = fw4Check(router.confdir, ifaces);
    expect(check.warnings, check.stderr).toEqual([]);
    expect(check.ok, check.stderr).toBe(true);
    loadRuleset(topo.router, fw4Print(router.confdir, ifaces));
  };

  const tcp = (ns: string, addr: string): boolean =>
    nsExec(ns, ["timeout", "3", "bash", "-c", `exec 3<>/dev/tcp/${addr}/${PORT} && head -c 2 <&3`], { allowFail: true }).stdout === "ok";
  /** Two pings, both unanswered: a refusal, not a lost packet. */
  const cutOff = (ns: string, addr: string): boolean => !pingOnce(ns, addr) && !pingOnce(ns, addr);

  beforeAll(async () => {
    router = new TestRouter();
    const lan = parseUci(router.file("network")).find((s) => s.name === "lan")!;
    topo.build(`${lan.options.ipaddr}/24`);
    ipn(topo.lanhost, `address add ${LAN_OTHER}/24 dev eth0`);
    // "The Internet": a host on the WAN side; the WAN zone masquerades what goes there.
    const internet = topo.addClient();
    ipn(internet.ns, `address add ${INTERNET}/32 dev lo`);
    ipn(topo.router, `route add ${INTERNET}/32 via ${internet.wan}`);
    for (const ns of [topo.lanhost, internet.ns]) {
      const argv = inNamespace(ns, ["node", "-e", `require("net").createServer((s) => s.end("ok")).listen(${PORT}, "0.0.0.0")`]);
      listeners.push(spawn(argv[0], argv.slice(1), { stdio: "ignore" }));
    }
    netifd = new Netifd(topo.router, () => router.file("network"), { wanAddress: ROUTER_WAN, wanPrefix: 24, setupMs: 100 });
    const socket = join(router.dir, "netifd.sock");
    await netifd.listen(socket);
    env = routerEnv(router, socket);
  });

  afterAll(async () => {
    for (const l of listeners) if (l.pid) process.kill(l.pid, "SIGTERM");
    await netifd?.close();
    topo.cleanup();
    router?.cleanup();
  });

  it("four devices with four kinds of access: each reaches exactly what it may", async () => {
    ok(await call("setup", { listen_port: 51820, address: "192.168.100.1/24", endpoint_host: ROUTER_WAN, zone: "own" }), "setup");
    const kinds: [string, unknown][] = [["lan", "lan"], ["one host", [`${LANHOST}:${PORT}/tcp`]], ["internet", "internet"], ["router", "router"]];
    // Full tunnels: every packet goes to the router, whose firewall alone decides.
    for (const [name, access] of kinds) ok(await call("add_peer", { name, tunnel: "full", access }), `add_peer ${name}`);
    expect(await poll(() => netifd.running("wg0") !== undefined, WAIT)).toBe(true);
    applyFirewall();
    let n = 0;
    for (const [name] of kinds) {
      const c = topo.addClient();
      const config = ok(await call("peer_config", { peer: name }), "peer_config").config;
      await wgQuickUp(c.ns, `wa${topo.tag}${++n}`, config);
      devices[name] = c.ns;
    }
    // Everyone can reach the router's tunnel address (the "router" device by ICMP, the others by their rules).
    for (const name of ["lan", "router"]) expect(await poll(() => pingOnce(devices[name], "192.168.100.1"), WAIT), `${name} → router`).toBe(true);

    // "lan": both LAN addresses, any protocol, and the Internet.
    expect(await poll(() => pingOnce(devices.lan, LANHOST), WAIT)).toBe(true);
    expect(pingOnce(devices.lan, LAN_OTHER)).toBe(true);
    expect(tcp(devices.lan, LAN_OTHER)).toBe(true);
    expect(tcp(devices.lan, INTERNET)).toBe(true);

    // "one host": 192.168.1.10:8080/tcp, and nothing else.
    expect(await poll(() => tcp(devices["one host"], LANHOST), WAIT), "one host → its host and port").toBe(true);
    expect(tcp(devices["one host"], LAN_OTHER), "one host → another LAN address").toBe(false);
    expect(cutOff(devices["one host"], LANHOST), "one host: no ping, only its port").toBe(true);
    expect(tcp(devices["one host"], INTERNET), "one host → the Internet").toBe(false);

    // "internet": the Internet, no LAN address.
    expect(await poll(() => tcp(devices.internet, INTERNET), WAIT), "internet → the Internet").toBe(true);
    expect(tcp(devices.internet, LANHOST)).toBe(false);
    expect(cutOff(devices.internet, LANHOST)).toBe(true);

    // "router": the router only.
    expect(cutOff(devices.router, LANHOST)).toBe(true);
    expect(tcp(devices.router, INTERNET)).toBe(false);
  });

  it("access changed: the rules follow; all at lan again brings back the zone's forwardings", async () => {
    // The one-host device gets the whole LAN: it reaches the other address now.
    ok(await call("update_peer", { peer: "one host", access: "lan" }), "update_peer");
    applyFirewall();
    expect(await poll(() => tcp(devices["one host"], LAN_OTHER), WAIT)).toBe(true);
    // Back to every device at "lan" except one disabled: the zone-wide forwardings return.
    for (const name of ["internet", "router"]) ok(await call("update_peer", { peer: name, access: "lan" }), "update_peer");
    const fw = router.file("firewall");
    expect(fw).toContain("config forwarding 'wgmgr_wg0_to_lan'");
    expect(fw).not.toContain("wgmgr_wg0_reject");
    ok(await call("update_peer", { peer: "lan", access: "internet" }), "update_peer");
    applyFirewall();
    expect(await poll(() => cutOff(devices.lan, LANHOST), WAIT), "the former lan device is cut from the LAN").toBe(true);
    expect(await poll(() => pingOnce(devices.router, LANHOST), WAIT), "the former router-only device reaches the LAN").toBe(true);
    // teardown leaves no rule behind
    ok(await call("teardown", {}), "teardown");
    expect(router.file("firewall")).not.toContain("wgmgr_wg0");
  });
});

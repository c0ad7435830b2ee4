// End-to-end, real WireGuard (wireguard-go in namespaces this test creates): the router as
// a client of a relay (S3a: `import` of the relay's file), the router as the hub of two
// sites and a worker (S3b), and a side router's return route (S4). The plugin runs inside
// the router namespace as a shell caller, its `ubus` answered by the netifd stand-in, as in
// wireguard.test.ts. No firewall runs here (masquerade is proven with the real firewall4 in
// test/firewall/semantics.test.ts).
//
//   isp ns: 203.0.113.254 on the WAN bridge, 198.51.100.49/30 to the relay, "the Internet"
//           198.51.100.7 on its loopback; routes the relay's tunnel subnet to the relay
//   relay ns: 198.51.100.50, a VPS running WireGuard (wgr 10.70.0.1/16, port 51820)
//   router ns: WAN 203.0.113.1 (default via the isp), br-lan 192.168.1.1/24, LAN host .10
//   worker, site A, site B: namespaces on the WAN bridge (default via the isp); each site
//           has a LAN of its own with a host (192.168.200.10, 192.168.201.10)
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { join } from "node:path";
import { TestRouter, Reply } from "../lib/router";
import { Netifd, parseUci } from "./netifd";
import { ok, pluginIn, routerEnv, staticRoutes, wgPeers } from "./live";
import { addNamespace, ipn, missingCapability, nsExec, poll, startWireguardGo, wgConf } from "./sys";
import { LANHOST, ROUTER_WAN, Topology, pingOnce } from "./topology";
import { wgQuickUp } from "./wgquick";

const WAIT = 12_000; // polls end as soon as the condition holds; one lost initiation costs a 5 s retry
const ISP = "203.0.113.254";
const INTERNET = "198.51.100.7";
const RELAY = "198.51.100.50";

const skipReason = missingCapability();
if (skipReason) {
  console.warn(`\n${"!".repeat(78)}\n!! wgmgr e2e (sites): SKIPPING every test: ${skipReason}.\n${"!".repeat(78)}\n`);
}

const key = (ns: string) => {
  const priv = nsExec(ns, ["wg", "genkey"]).stdout.trim();
  return { priv, pub: nsExec(ns, ["wg", "pubkey"], { input: priv + "\n" }).stdout.trim() };
};

describe.skipIf(skipReason !== undefined).sequential("sites and relays with real WireGuard", () => {
  let topo: Topology;
  let router: TestRouter;
  let netifd: Netifd;
  let env: Record<string, string>;
  let isp: string;
  let relay: string;
  let worker: { ns: string; wan: string };
  const call = (method: string, input: Record<string, unknown>): Promise<Reply> => pluginIn(topo.router, env, method, input);
  const relayKeys: Record<string, { priv: string; pub: string }> = {};

  /** A host behind a namespace on a LAN of its own (a site's office LAN). */
  function siteLan(site: string, prefix: string): string {
    const host = `${site}-h`;
    addNamespace(host);
    ipn(site, `link add lan0 type veth peer name eth0 netns ${host}`);
    ipn(site, `address add ${prefix}.1/24 dev lan0`);
    ipn(site, "link set lan0 up");
    nsExec(site, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    ipn(host, `address add ${prefix}.10/24 dev eth0`);
    ipn(host, "link set eth0 up");
    ipn(host, `route add default via ${prefix}.1`);
    return host;
  }

  beforeAll(async () => {
    router = new TestRouter({ files: { dhcp: "config dhcp 'lan'\n\toption interface 'lan'\n\toption ignore '1'\n" } });
    topo = new Topology();
    const lan = parseUci(router.file("network")).find((s) => s.name === "lan")!;
    topo.build(`${lan.options.ipaddr}/24`);
    ipn(topo.router, `route add default via ${ISP}`);

    // The ISP: the router's and the clients' way to "the Internet" and to the relay.
    isp = `wgmgr-e2e-${topo.tag}-isp`;
    addNamespace(isp);
    nsExec(isp, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    ipn(topo.router, `link add wan-isp type veth peer name eth0 netns ${isp}`);
    ipn(topo.router, "link set wan-isp master wan up");
    ipn(isp, `address add ${ISP}/24 dev eth0`);
    ipn(isp, "link set eth0 up");
    ipn(isp, `address add ${INTERNET}/32 dev lo`);

    // The relay: a VPS with WireGuard, configured by hand as its owner would.
    relay = `wgmgr-e2e-${topo.tag}-relay`;
    addNamespace(relay);
    nsExec(relay, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    ipn(isp, `link add relay0 type veth peer name eth0 netns ${relay}`);
    ipn(isp, "address add 198.51.100.49/30 dev relay0");
    ipn(isp, "link set relay0 up");
    ipn(isp, `route add 10.70.0.0/16 via ${RELAY}`);
    ipn(relay, `address add ${RELAY}/30 dev eth0`);
    ipn(relay, "link set eth0 up");
    ipn(relay, "route add default via 198.51.100.49");
    for (const k of ["relay", "office", "worker"]) relayKeys[k] = key(relay);
    await startWireguardGo(relay, "wgr");
    wgConf(
      relay,
      "setconf",
      "wgr",
      `[Interface]\nPrivateKey = ${relayKeys.relay.priv}\nListenPort = 51820\n\n` +
        // The office router: its tunnel address and the office LAN behind it.
        `[Peer]\nPublicKey = ${relayKeys.office.pub}\nAllowedIPs = 10.70.0.2/32, 192.168.1.0/24\n\n` +
        `[Peer]\nPublicKey = ${relayKeys.worker.pub}\nAllowedIPs = 10.70.0.3/32\n`,
    );
    ipn(relay, "address add 10.70.0.1/16 dev wgr");
    ipn(relay, "link set wgr up");
    ipn(relay, "route add 192.168.1.0/24 dev wgr");

    worker = topo.addClient();
    ipn(worker.ns, `route add default via ${ISP}`);

    netifd = new Netifd(topo.router, () => router.file("network"), { wanAddress: ROUTER_WAN, wanPrefix: 24, setupMs: 200 });
    const socket = join(router.dir, "netifd.sock");
    await netifd.listen(socket);
    env = routerEnv(router, socket);
  });

  afterAll(async () => {
    await netifd?.close();
    topo?.cleanup();
    router?.cleanup();
  });

  /** The file the relay's owner hands the office router. */
  const officeFile = (allowed: string) =>
    `# issued by relay.example.net\r\n[Interface]\r\nPrivateKey = ${relayKeys.office.priv}\r\nAddress = 10.70.0.2/16\r\n\r\n` +
    `[Peer]\r\nPublicKey = ${relayKeys.relay.pub}\r\nAllowedIPs = ${allowed}\r\nEndpoint = ${RELAY}:51820\r\n`;

  test("S3a: the router imports the relay's file; a remote worker reaches the office LAN through relay and router; the router's Internet stays on the WAN", async () => {
    const imported = ok(await call("import", { interface: "wg1", config: officeFile("10.70.0.0/16"), zone: "lan" }), "import");
    expect(imported.role).toBe("client");
    expect(await poll(() => netifd.running("wg1") !== undefined, WAIT), `wg1 up\n${netifd.errors.join("\n")}`).toBe(true);
    // The router dials out: a handshake with the relay without anything coming in first (keepalive 25).
    expect(await poll(() => (wgPeers(relay, "wgr").get(relayKeys.office.pub)?.latestHandshake ?? 0) > 0, WAIT), "the router dialled the relay").toBe(true);
    expect(staticRoutes(topo.router, "wg1")).toContain("10.70.0.0/16");

    // The worker, with the relay's file for it.
    await wgQuickUp(
      worker.ns,
      `wc${topo.tag}w`,
      `[Interface]\nPrivateKey = ${relayKeys.worker.priv}\nAddress = 10.70.0.3/16\n\n[Peer]\nPublicKey = ${relayKeys.relay.pub}\nAllowedIPs = 10.70.0.0/16, 192.168.1.0/24\nEndpoint = ${RELAY}:51820\nPersistentKeepalive = 25\n`,
    );
    expect(await poll(() => pingOnce(worker.ns, LANHOST), WAIT), "worker → relay → router → LAN host").toBe(true);
    expect(await poll(() => pingOnce(topo.lanhost, "10.70.0.3"), WAIT), "LAN host → router → relay → worker").toBe(true);
    // The router's own way out is the WAN, as before.
    expect(ipn(topo.router, `route get ${INTERNET}`).stdout).toContain("dev wan");
    expect(pingOnce(topo.router, INTERNET)).toBe(true);
    const st = ok(await call("status", { interface: "wg1" }), "status").interfaces[0];
    expect(st.role).toBe("client");
    expect(st.peers[0].endpoint).toBe(`${RELAY}:51820`);
    expect(st.peers[0].latest_handshake).toBeGreaterThan(0);
  });

  test("S3a full tunnel, default_route tunnel: the router's Internet goes through the relay, the handshake still through the WAN", async () => {
    ok(await call("teardown", { interface: "wg1" }), "teardown");
    await poll(() => netifd.running("wg1") === undefined && !ipn(topo.router, "link show", { allowFail: true }).stdout.includes("wg1:"), WAIT);
    ok(await call("import", { interface: "wg1", config: officeFile("0.0.0.0/0"), zone: "own", default_route: "tunnel" }), "import tunnel");
    expect(await poll(() => netifd.running("wg1") !== undefined, WAIT), `wg1 up\n${netifd.errors.join("\n")}`).toBe(true);
    // netifd pinned the relay's endpoint to the WAN before the tunnel's routes came in.
    expect(ipn(topo.router, `route get ${RELAY}`).stdout).toContain(`via ${ISP} dev wan`);
    expect(ipn(topo.router, `route get ${INTERNET}`).stdout).toContain("dev wg1");
    expect(ipn(topo.router, "route show default").stdout, "the WAN's default route is still there").toContain(`via ${ISP} dev wan`);
    const before = wgPeers(relay, "wgr").get(relayKeys.office.pub)?.rx ?? 0;
    expect(await poll(() => pingOnce(topo.router, INTERNET), WAIT), "the router reaches the Internet through the relay").toBe(true);
    expect(wgPeers(relay, "wgr").get(relayKeys.office.pub)!.rx, "through the relay").toBeGreaterThan(before);
    // And with "keep" the same file would leave the Internet on the WAN (no /1 routes, no /0 route).
    ok(await call("teardown", { interface: "wg1" }), "teardown");
    await poll(() => netifd.running("wg1") === undefined && !ipn(topo.router, "link show", { allowFail: true }).stdout.includes("wg1:"), WAIT);
    ok(await call("import", { interface: "wg1", config: officeFile("0.0.0.0/0, 10.70.0.0/16"), zone: "lan", default_route: "keep" }), "import keep");
    expect(await poll(() => netifd.running("wg1") !== undefined, WAIT)).toBe(true);
    expect(ipn(topo.router, `route get ${INTERNET}`).stdout).toContain("dev wan");
    expect(staticRoutes(topo.router, "wg1")).toEqual(["10.70.0.0/16"]);
    expect(await poll(() => pingOnce(worker.ns, LANHOST), WAIT), "the relay's networks still go through it").toBe(true);
    ok(await call("teardown", { interface: "wg1" }), "teardown");
  });

  test("S3b: the router as hub: two sites' LAN hosts reach each other, the worker reaches both and the router's LAN", async () => {
    ok(await call("setup", { interface: "wg0", listen_port: 51820, address: "10.80.0.1/24", endpoint_host: ROUTER_WAN }), "setup");
    for (const [name, subnet] of [["site A", "192.168.200.0/24"], ["site B", "192.168.201.0/24"]]) {
      ok(await call("add_peer", { interface: "wg0", name, tunnel: "split", subnets: [subnet] }), `add_peer ${name}`);
    }
    const hub = ok(await call("add_peer", { interface: "wg0", name: "hub worker", tunnel: "split" }), "add_peer worker");
    expect(await poll(() => netifd.running("wg0") !== undefined && wgPeers(topo.router, "wg0").size === 3, WAIT), "three peers live").toBe(true);
    // Each device's configuration as it is now (a site added after another changes the first's).
    const sites = [
      { name: "site A", prefix: "192.168.200" },
      { name: "site B", prefix: "192.168.201" },
    ];
    const hosts: Record<string, string> = {};
    for (const s of sites) {
      const c = topo.addClient();
      ipn(c.ns, `route add default via ${ISP}`);
      hosts[s.name] = siteLan(c.ns, s.prefix);
      await wgQuickUp(c.ns, `wc${topo.tag}${s.prefix.slice(-1)}`, ok(await call("peer_config", { interface: "wg0", peer: s.name }), "peer_config").config);
    }
    const w = topo.addClient();
    await wgQuickUp(w.ns, `wc${topo.tag}h`, ok(await call("peer_config", { interface: "wg0", peer: hub.peer.id }), "peer_config worker").config);
    expect(await poll(() => pingOnce(hosts["site A"], "192.168.201.10"), WAIT), "site A's LAN host → hub → site B's LAN host").toBe(true);
    expect(await poll(() => pingOnce(hosts["site B"], "192.168.200.10"), WAIT), "and back").toBe(true);
    expect(await poll(() => pingOnce(w.ns, "192.168.200.10"), WAIT), "worker → site A").toBe(true);
    expect(await poll(() => pingOnce(w.ns, "192.168.201.10"), WAIT), "worker → site B").toBe(true);
    expect(await poll(() => pingOnce(w.ns, LANHOST), WAIT), "worker → the router's LAN").toBe(true);
    expect(await poll(() => pingOnce(hosts["site A"], LANHOST), WAIT), "site A → the router's LAN").toBe(true);
  });

  test("S4: a LAN host whose gateway is another router answers only once that router has the return route defaults gives", async () => {
    // 192.168.1.20 uses the main router 192.168.1.254, which knows nothing of the tunnel.
    const main = `wgmgr-e2e-${topo.tag}-main`;
    const host2 = `wgmgr-e2e-${topo.tag}-lan2`;
    for (const [ns, addr, peer] of [[main, "192.168.1.254", "lan-main"], [host2, "192.168.1.20", "lan-h2"]]) {
      addNamespace(ns);
      ipn(topo.router, `link add ${peer} type veth peer name eth0 netns ${ns}`);
      ipn(topo.router, `link set ${peer} master br-lan up`);
      ipn(ns, `address add ${addr}/24 dev eth0`);
      ipn(ns, "link set eth0 up");
    }
    nsExec(main, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
    ipn(host2, "route add default via 192.168.1.254");
    const d = ok(await call("defaults", { interface: "wg0" }), "defaults");
    // The router hands out no addresses on its LAN (dhcp 'lan' ignore 1): a side router.
    expect(d.side_router.reasons.map((w: { message: string }) => w.message).join(" ")).toContain("DHCP server is off");
    expect(d.side_router.return_routes).toEqual(["10.80.0.0/24 via 192.168.1.1"]);
    const phone = ok(await call("add_peer", { interface: "wg0", name: "phone", tunnel: "split" }), "add_peer phone");
    const w = topo.addClient();
    await wgQuickUp(w.ns, `wc${topo.tag}s`, phone.config);
    expect(await poll(() => pingOnce(w.ns, LANHOST), WAIT), "the tunnel works").toBe(true);
    expect(pingOnce(w.ns, "192.168.1.20") || pingOnce(w.ns, "192.168.1.20"), "no reply: it goes to the main router").toBe(false);
    // The route, exactly as defaults gives it, on the main router.
    ipn(main, `route add ${d.side_router.return_routes[0]}`);
    expect(await poll(() => pingOnce(w.ns, "192.168.1.20"), WAIT), "replies come back through this router").toBe(true);
  });
});

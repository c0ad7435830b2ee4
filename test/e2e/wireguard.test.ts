// End-to-end: wgmgr's configuration, brought up the way OpenWrt does it, carries real
// WireGuard traffic. The plugin runs as a shell caller (no session) inside a "router"
// network namespace with its own /var/run/wireguard (real `wg` and `ip`, nothing of the
// host's reachable); its `ubus` calls reach the netifd stand-in of test/e2e/netifd.ts,
// which brings the interface up from the committed /etc/config/network in the background,
// exactly as netifd's WireGuard handler would; each client device gets its own namespace
// and brings up the exact text peer_config returned, as wg-quick would
// (test/e2e/wgquick.ts). wireguard-go stands in for the kernel module.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { TestRouter, Reply } from "../lib/router";
import { appendFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { Netifd, parseUci } from "./netifd";
import { pluginIn, ok, routerEnv, wgPeers, staticRoutes, sessionKept } from "./live";
import { missingCapability, nsExec, ipn, poll, socketDir, wgConf } from "./sys";
import { LANHOST, ROUTER_WAN, Topology, pingOnce } from "./topology";
import { parseWgQuick, wgQuickUp, WgQuickInterface } from "./wgquick";

const TUNNEL_ROUTER = "192.168.100.1";
const PORT = 8890;
const HANDSHAKE_TIMEOUT = 12_000; // one lost initiation costs a 5 s retry
// Waits are polls that end as soon as the condition holds; the timeout only bounds a
// failure, so it is generous for a loaded machine.
const WAIT = 10_000;
const IF = "wg0"; // the router namespace has its own /var/run/wireguard: no clash with the host's wg0
const LAPTOP_LAB = "192.168.200.0/24"; // a network behind the third device (add_peer subnets)
const LAPTOP_LAB_HOST = "192.168.200.1";

const skipReason = missingCapability();
if (skipReason) {
  console.warn(
    `\n${"!".repeat(78)}\n!! wgmgr e2e: SKIPPING every WireGuard end-to-end test: ${skipReason}.\n` +
      `!! These tests need root, /dev/net/tun, ip netns, wireguard-go and wg. Nothing was verified.\n${"!".repeat(78)}\n`,
  );
}

interface Device {
  name: string;
  ns: string;
  wan: string;
  tunnelIp: string;
  publicKey: string;
  config: string;
  client: WgQuickInterface;
}

describe.skipIf(skipReason !== undefined).sequential("wgmgr with real WireGuard (wireguard-go in namespaces)", () => {
  let router: TestRouter;
  let topo: Topology;
  let netifd: Netifd;
  let env: Record<string, string>;
  const configs: Record<string, string> = {}; // peer_config text by device name
  const devices: Record<string, Device> = {}; // devices that are up
  let clientCount = 0;

  // The steps build on each other: after one fails, the later ones fail at once, naming it,
  // instead of with confusing follow-up errors.
  let failedStep: string | undefined;
  function step(name: string, fn: () => Promise<void> | void, blocksLater = true): void {
    test(name, async () => {
      if (failedStep) throw new Error(`not run: the earlier step "${failedStep}" failed`);
      try {
        await fn();
      } catch (e) {
        if (blocksLater) failedStep = name;
        throw e;
      }
    });
  }

  const call = (method: string, input: Record<string, unknown> = {}): Promise<Reply> => pluginIn(topo.router, env, method, { interface: IF, ...input });

  /** Brings a device up from its peer_config text and proves it handshakes and reaches the router and the LAN. */
  async function connect(name: string, config: string): Promise<Device> {
    const { ns, wan } = topo.addClient();
    const client = await wgQuickUp(ns, `wc${topo.tag}${++clientCount}`, config);
    const dev: Device = {
      name,
      ns,
      wan,
      tunnelIp: client.config.addresses[0].split("/")[0],
      publicKey: nsExec(ns, ["wg", "show", client.dev, "public-key"]).stdout.trim(),
      config,
      client,
    };
    devices[name] = dev;
    expect(await poll(() => pingOnce(ns, TUNNEL_ROUTER), HANDSHAKE_TIMEOUT), `${name} pings ${TUNNEL_ROUTER}\n${diag(dev)}`).toBe(true);
    expect(Number(nsExec(ns, ["wg", "show", client.dev, "latest-handshakes"]).stdout.split("\t")[1])).toBeGreaterThan(0);
    expect(wgPeers(topo.router, IF).get(dev.publicKey)?.latestHandshake ?? 0, `router's handshake with ${name}`).toBeGreaterThan(0);
    expect(await poll(() => pingOnce(ns, LANHOST), WAIT), `${name} pings the LAN host ${LANHOST}`).toBe(true);
    return dev;
  }

  /** What the router and a device have running, for failure messages. */
  function diag(d?: Device): string {
    const show = (ns: string, dev: string) => nsExec(ns, ["wg", "show", dev], { allowFail: true }).stdout;
    const psk = (ns: string, dev: string) => nsExec(ns, ["wg", "show", dev, "preshared-keys"], { allowFail: true }).stdout;
    let out = `router ${IF}:\n${show(topo.router, IF)}\npreshared keys:\n${psk(topo.router, IF)}\nroutes:\n${ipn(topo.router, `route show dev ${IF}`, { allowFail: true }).stdout}`;
    if (d) out += `\n${d.name} (${d.client.dev}):\n${show(d.ns, d.client.dev)}\npreshared keys:\n${psk(d.ns, d.client.dev)}`;
    return `${out}\n/etc/config/network:\n${router.file("network")}`;
  }

  /** The device's pings to the router's tunnel address get through (polled until they do). */
  const reaches = (d: Device) => poll(() => pingOnce(d.ns, TUNNEL_ROUTER), WAIT);
  /** Two pings, both unanswered. */
  const cutOff = (d: Device) => !pingOnce(d.ns, TUNNEL_ROUTER) && !pingOnce(d.ns, TUNNEL_ROUTER);

  beforeAll(async () => {
    router = new TestRouter();
    topo = new Topology();
    const lan = parseUci(router.file("network")).find((s) => s.name === "lan")!;
    const prefix = String(lan.options.netmask).split(".").reduce((n, o) => n + Number(o).toString(2).replace(/0/g, "").length, 0);
    topo.build(`${lan.options.ipaddr}/${prefix}`);
    netifd = new Netifd(topo.router, () => router.file("network"), { wanAddress: ROUTER_WAN, wanPrefix: 24, setupMs: 400 });
    const socket = join(router.dir, "netifd.sock");
    await netifd.listen(socket);
    env = routerEnv(router, socket);
  });

  afterAll(async () => {
    await netifd?.close();
    topo?.cleanup();
    router?.cleanup();
  });

  step("a shell script: setup, then add_peer twice with no pause; netifd brings wg0 up with both devices", async () => {
    // What a user's script does: no pause between the calls. setup's network reload makes
    // netifd start bringing wg0 up from the configuration as it is at that moment; the
    // add_peer calls land while it is still coming up and must still take effect.
    ok(await call("setup", { listen_port: PORT, address: `${TUNNEL_ROUTER}/24`, endpoint_host: ROUTER_WAN }), "setup");
    const added: Record<string, Reply> = {};
    for (const [name, tunnel] of [["iPhone", "full"], ["PC", "split"]]) {
      added[name] = ok(await call("add_peer", { name, tunnel }), `add_peer ${name}`);
      expect(JSON.stringify(added[name].warnings), `add_peer ${name} took effect; netifd: ${netifd.calls.join(", ")} ${netifd.errors.join(" ")}`).not.toMatch(/not running|applies when/);
    }
    expect(netifd.calls, "add_peer found wg0 still coming up").toContain(`network.interface.${IF} status`);
    const keys = Object.values(added).map((a) => a.peer.public_key).sort();
    const live = await poll(() => {
      const peers = netifd.running(IF) ? [...wgPeers(topo.router, IF).keys()].sort() : [];
      return JSON.stringify(peers) === JSON.stringify(keys);
    }, WAIT);
    expect(live, `both peers run on ${IF}\n${netifd.errors.join("\n")}\n${diag()}`).toBe(true);
    const st = ok(await call("status"), "status").interfaces.find((i: Reply) => i.name === IF);
    expect(st.up).toBe(true);
    expect(st.in_sync, "status: the running interface matches the configuration").toBe(true);

    for (const name of ["iPhone", "PC"]) {
      const pc = ok(await call("peer_config", { peer: name }), `peer_config ${name}`);
      expect(pc.config, "add_peer's config equals peer_config's").toBe(added[name].config);
      const c = parseWgQuick(pc.config);
      expect(c.peers).toHaveLength(1);
      expect(c.peers[0].endpoint).toBe(`${ROUTER_WAN}:${PORT}`);
      expect(c.interface.privatekey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
      const allowed = c.peers[0].allowedips.split(/\s*,\s*/);
      if (name === "iPhone") expect(allowed).toEqual(expect.arrayContaining(["0.0.0.0/0", "::/0"]));
      else {
        expect(allowed).toEqual(expect.arrayContaining(["192.168.100.0/24", "192.168.1.0/24"]));
        expect(allowed).not.toContain("0.0.0.0/0");
      }
      configs[name] = pc.config;
    }

    // netifd brought the interface up as its handler does: port, address, and one on-link
    // route per allowed IP (route_allowed_ips); wgmgr synced the peers it missed.
    const up = netifd.running(IF)!;
    expect(nsExec(topo.router, ["wg", "show", IF, "listen-port"]).stdout.trim()).toBe(String(PORT));
    expect(ipn(topo.router, `-4 address show dev ${IF}`).stdout).toContain(`${TUNNEL_ROUTER}/24`);
    const routes = staticRoutes(topo.router, IF);
    for (const d of Object.values(added)) for (const a of d.peer.allowed_ips) expect(routes).toContain(a);
    for (const r of up.plan.routes) expect(routes).toContain(r.target);
  });

  step("full-tunnel peer (iPhone): handshake, router's tunnel address and LAN host through the tunnel", async () => {
    const d = await connect("iPhone", configs.iPhone);
    // Everything goes into the tunnel (wg-quick's fwmark policy routing), the handshake does not.
    expect(ipn(d.ns, "route get 198.51.100.7").stdout).toContain(`dev ${d.client.dev}`);
    expect(ipn(d.ns, `route get ${ROUTER_WAN} mark 51820`).stdout).toContain("dev eth0");
    // And back: the LAN host reaches the device by its tunnel address.
    expect(await poll(() => pingOnce(topo.lanhost, d.tunnelIp), WAIT)).toBe(true);
  });

  step("split-tunnel peer (PC): handshake, router's tunnel address and LAN host; nothing else routed", async () => {
    const d = await connect("PC", configs.PC);
    expect(ipn(d.ns, "route get 192.168.1.10").stdout).toContain(`dev ${d.client.dev}`);
    const other = ipn(d.ns, "route get 198.51.100.7", { allowFail: true });
    expect(other.stdout).not.toContain(`dev ${d.client.dev}`);
    expect(await poll(() => pingOnce(topo.lanhost, d.tunnelIp), WAIT)).toBe(true);
  });

  step("status (inside the router namespace) reports both peers online, named, with traffic", async () => {
    const st = ok(await call("status"), "status");
    const iface = st.interfaces.find((i: Reply) => i.name === IF);
    expect(iface, JSON.stringify(st)).toBeDefined();
    expect(iface.up).toBe(true);
    expect(iface.listen_port).toBe(PORT);
    for (const name of ["iPhone", "PC"]) {
      const d = devices[name];
      const p = iface.peers.find((x: Reply) => x.public_key === d.publicKey);
      expect(p, `${name} in ${JSON.stringify(iface.peers)}`).toBeDefined();
      expect(p.name).toBe(name);
      expect(p.online).toBe(true);
      expect(p.latest_handshake).toBeGreaterThan(0);
      expect(p.rx_bytes).toBeGreaterThan(0);
      expect(p.tx_bytes).toBeGreaterThan(0);
      const port = nsExec(d.ns, ["wg", "show", d.client.dev, "listen-port"]).stdout.trim();
      expect(p.endpoint).toBe(`${d.wan}:${port}`);
    }
  }, false);

  step("add_peer on the running interface: a third device connects, the others keep their sessions", async () => {
    const before = wgPeers(topo.router, IF);
    const added = ok(await call("add_peer", { name: "Laptop", tunnel: "split", subnets: [LAPTOP_LAB] }), "add_peer Laptop");
    expect(JSON.stringify(added.warnings ?? [])).not.toMatch(/syncconf|routes/i);

    const after = wgPeers(topo.router, IF);
    expect(after.size, "the plugin pushed the new peer into the running interface").toBe(3);
    for (const name of ["iPhone", "PC"]) {
      expect(sessionKept(before.get(devices[name].publicKey)!, after.get(devices[name].publicKey)), `${name} session kept`).toBe(true);
    }

    const laptop = await connect("Laptop", ok(await call("peer_config", { peer: "Laptop" }), "peer_config Laptop").config);
    expect(laptop.config).toBe(added.config);
    expect(staticRoutes(topo.router, IF)).toContain(`${laptop.tunnelIp}/32`);
    // The network behind the Laptop (subnets) is routed to it: the LAN host reaches a host there.
    expect(staticRoutes(topo.router, IF)).toContain(LAPTOP_LAB);
    ipn(laptop.ns, `address add ${LAPTOP_LAB_HOST}/32 dev lo`); // a host of that network, on the Laptop itself
    expect(await poll(() => pingOnce(topo.lanhost, LAPTOP_LAB_HOST), WAIT), `LAN host reaches ${LAPTOP_LAB_HOST} behind the Laptop`).toBe(true);

    const later = wgPeers(topo.router, IF);
    for (const name of ["iPhone", "PC"]) {
      const d = devices[name];
      expect(await reaches(d), `${name} still reaches the router`).toBe(true);
      expect(sessionKept(before.get(d.publicKey)!, later.get(d.publicKey)), `${name} session kept`).toBe(true);
      expect(pingOnce(d.ns, LANHOST)).toBe(true);
    }
  });

  step("sync makes a drifted running interface match UCI again, keeping sessions", async () => {
    const { iPhone, PC, Laptop } = devices;
    const before = wgPeers(topo.router, IF);
    const pcAllowed = [...before.get(PC.publicKey)!.allowedIps].sort();
    const strayKey = nsExec(topo.router, ["sh", "-c", "wg genkey | wg pubkey"]).stdout.trim();

    // Drift: PC's allowed IPs changed by hand, a stray peer, iPhone's route deleted, a stray route.
    nsExec(topo.router, ["wg", "set", IF, "peer", PC.publicKey, "allowed-ips", "10.255.255.1/32"]);
    nsExec(topo.router, ["wg", "set", IF, "peer", strayKey, "allowed-ips", "10.255.255.2/32"]);
    ipn(topo.router, `route del ${iPhone.tunnelIp}/32 dev ${IF} proto static`);
    ipn(topo.router, `route add 10.255.254.0/24 dev ${IF} proto static`);
    expect(cutOff(PC), "the drift cuts PC off").toBe(true);
    expect(ok(await call("status"), "status").interfaces[0].in_sync, "status sees the drift").toBe(false);

    const r = ok(await call("sync"), "sync");
    expect(r.running).toBe(true);
    expect(r.peers).toBe(3);
    expect(r.warnings ?? []).toEqual([]);

    const after = wgPeers(topo.router, IF);
    expect([...after.keys()].sort(), "stray peer removed, configured peers present").toEqual([iPhone, PC, Laptop].map((d) => d.publicKey).sort());
    expect([...after.get(PC.publicKey)!.allowedIps].sort()).toEqual(pcAllowed);
    const routes = staticRoutes(topo.router, IF);
    for (const d of [iPhone, PC, Laptop]) expect(routes).toContain(`${d.tunnelIp}/32`);
    expect(routes).toContain(LAPTOP_LAB);
    expect(routes, "stray proto-static route removed").not.toContain("10.255.254.0/24");
    expect(ok(await call("status"), "status").interfaces[0].in_sync, "status: in sync again").toBe(true);
    expect(await reaches(PC), `PC reaches the router again\n${diag(PC)}`).toBe(true);
    for (const d of [iPhone, PC, Laptop]) {
      expect(await reaches(d), `${d.name} reaches the router`).toBe(true);
      expect(sessionKept(before.get(d.publicKey)!, wgPeers(topo.router, IF).get(d.publicKey)), `${d.name} session kept through sync`).toBe(true);
    }
    // The router's wg sees its own interface only: its control socket is in the namespace's
    // own /var/run/wireguard, where no interface of the host can be.
    expect(existsSync(join(socketDir(topo.router), `${IF}.sock`))).toBe(true);
    expect(nsExec(topo.router, ["wg", "show", "interfaces"]).stdout.trim()).toBe(IF);
  });

  step("remove_peer: the removed device can no longer reach the router, the others still can", async () => {
    const laptop = devices.Laptop;
    const before = wgPeers(topo.router, IF);
    ok(await call("remove_peer", { peer: "Laptop" }), "remove_peer Laptop");

    expect(wgPeers(topo.router, IF).has(laptop.publicKey), "Laptop removed from the running interface").toBe(false);
    expect(staticRoutes(topo.router, IF)).not.toContain(`${laptop.tunnelIp}/32`);
    expect(router.file("network")).not.toContain(laptop.publicKey);
    expect(cutOff(laptop), "Laptop can no longer reach the router").toBe(true);
    expect(pingOnce(laptop.ns, LANHOST)).toBe(false);
    expect(staticRoutes(topo.router, IF)).not.toContain(LAPTOP_LAB);
    expect(pingOnce(topo.lanhost, LAPTOP_LAB_HOST), "the network behind the Laptop is gone too").toBe(false);
    for (const name of ["iPhone", "PC"]) {
      const d = devices[name];
      expect(await reaches(d), `${name} still reaches the router`).toBe(true);
      expect(pingOnce(d.ns, LANHOST), `${name} still reaches the LAN`).toBe(true);
      expect(sessionKept(before.get(d.publicKey)!, wgPeers(topo.router, IF).get(d.publicKey)), `${name} session kept`).toBe(true);
    }
  });

  step("sync keeps the interface's static routes: wgmgr's own (add_route) and the user's own config route", async () => {
    const { PC } = devices;
    // A route the user made (LuCI → Static Routes), not wgmgr's, bound to the interface.
    appendFileSync(join(router.confdir, "network"), `\nconfig route 'user_lab'\n\toption interface '${IF}'\n\toption target '10.77.0.0/24'\n`);
    ok(await call("add_route", { target: "192.168.201.0/24", gateway: PC.tunnelIp }), "add_route");
    // add_route's network reload: netifd installs the route sections of the running interface.
    let routes = staticRoutes(topo.router, IF);
    expect(routes, "add_route's route installed by the reload").toContain("192.168.201.0/24");
    expect(routes, "the user's own route installed by the reload").toContain("10.77.0.0/24");

    ok(await call("sync"), "sync");
    routes = staticRoutes(topo.router, IF);
    expect(routes, "wgmgr's add_route route kept by sync").toContain("192.168.201.0/24");
    expect(routes, "the user's own route kept by sync").toContain("10.77.0.0/24");

    ok(await call("remove_route", { target: "192.168.201.0/24" }), "remove_route");
    expect(router.file("network")).not.toContain("192.168.201.0/24");
    ok(await call("sync"), "sync");
    routes = staticRoutes(topo.router, IF);
    expect(routes, "a removed route is gone after sync").not.toContain("192.168.201.0/24");
    expect(routes, "the user's own route still kept").toContain("10.77.0.0/24");
  }, false);

  step("update_peer enabled:false cuts one device off, the other keeps working; enabled:true lets it back in", async () => {
    const { iPhone, PC: pc } = devices;
    const pcPsk = parseWgQuick(pc.config).peers[0].presharedkey;
    const before = wgPeers(topo.router, IF);
    ok(await call("update_peer", { peer: "PC", enabled: false }), "update_peer PC enabled:false");

    expect(wgPeers(topo.router, IF).has(pc.publicKey), "PC removed from the running interface").toBe(false);
    expect(staticRoutes(topo.router, IF)).not.toContain(`${pc.tunnelIp}/32`);
    expect(cutOff(pc), "PC can no longer reach the router").toBe(true);
    expect(await reaches(iPhone), "iPhone still reaches the router").toBe(true);
    expect(sessionKept(before.get(iPhone.publicKey)!, wgPeers(topo.router, IF).get(iPhone.publicKey)), "iPhone session kept").toBe(true);
    const st = ok(await call("status"), "status").interfaces.find((i: Reply) => i.name === IF);
    const spc = st.peers.find((p: Reply) => p.name === "PC");
    expect(spc.enabled).toBe(false);
    expect(spc.online).toBe(false);

    ok(await call("update_peer", { peer: "PC", enabled: true }), "update_peer PC enabled:true");
    expect(wgPeers(topo.router, IF).has(pc.publicKey), "PC back in the running interface").toBe(true);
    expect(staticRoutes(topo.router, IF)).toContain(`${pc.tunnelIp}/32`);
    // Disabling and enabling must not touch anything else: the device's config (with its
    // preshared key) has to keep working unchanged.
    expect(router.file("network"), "PC's preshared key is still in UCI").toContain(pcPsk);
    const livePsk = nsExec(topo.router, ["wg", "show", IF, "preshared-keys"]).stdout;
    expect(livePsk, "the router uses the preshared key PC's config has").toContain(`${pc.publicKey}\t${pcPsk}`);
    // The router forgot PC's session; the device reconnects (re-applies its config, as
    // toggling the tunnel off and on does) instead of waiting ~15 s for its own rekey.
    wgConf(pc.ns, "setconf", pc.client.dev, pc.client.config.stripped);
    expect(await poll(() => pingOnce(pc.ns, TUNNEL_ROUTER), HANDSHAKE_TIMEOUT), `PC reaches the router again\n${diag(pc)}`).toBe(true);
    expect(pingOnce(pc.ns, LANHOST)).toBe(true);
    expect(await reaches(iPhone)).toBe(true);
  });
});

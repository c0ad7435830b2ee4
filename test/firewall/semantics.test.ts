// What the firewall sections of test/firewall/FINDINGS.md do to real traffic: fw4 renders
// them (WGMGR_REAL_FW4), the ruleset is loaded with nft into a router namespace, and a
// WireGuard device (wireguard-go) on the router's WAN side talks through the tunnel to a
// LAN host. Skipped, loudly, without fw4, root, nft or what test/e2e needs.
//
//   client ns                             router ns                          lanhost ns
//   eth0 203.0.113.11 ── veth ── wan (bridge) 203.0.113.1        br-lan ── veth ── eth0 192.168.1.10/24
//   wg0 192.168.100.2 ═══ tunnel ═══ wg0 192.168.100.1/24      192.168.1.1/24        + 192.168.1.11/24
//   (a second client: .12, wg0 192.168.100.3)  fw4's ruleset (nft -f)
//
// The LAN host and the second device count, with their own nft table, which source
// addresses their echo requests and TCP SYNs come from: what they saw, not only whether a
// reply came back.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inNamespace, ipn, missingCapability, nsExec, poll, startWireguardGo, stopProcess, wgConf } from "../e2e/sys";
import { Topology, pingOnce } from "../e2e/topology";
import { chainRules, fw4Missing, fw4Print, type Ifaces, loadRuleset } from "../lib/fw4";
import { TestRouter } from "../lib/router";

function nftMissing(): string | undefined {
  return spawnSync("sh", ["-c", "command -v nft"]).status === 0 ? undefined : "'nft' is not installed (apt-get install -y nftables)";
}

const skipReason = fw4Missing() ?? missingCapability() ?? nftMissing();
if (skipReason) {
  console.warn(
    `\n${"!".repeat(78)}\n!! wgmgr fw4 semantics: SKIPPING the firewall traffic tests: ${skipReason}.\n` +
      `!! They need WGMGR_REAL_FW4 (test/lib/fw4.ts), root, nft, ip netns, wireguard-go and wg. Nothing was verified.\n${"!".repeat(78)}\n`,
  );
}

const LAN_HOST = "192.168.1.10";
const LAN_OTHER = "192.168.1.11"; // a second address of the LAN host, not allowed by the per-device rule
const ROUTER_LAN = "192.168.1.1";
const DEVICE = "192.168.100.2";
const DEVICE2 = "192.168.100.3"; // a second device, for tunnel-to-tunnel traffic
const PORT = 8080;

const IFACES: Ifaces = {
  lan: { device: "br-lan", ipv4: [`${ROUTER_LAN}/24`] },
  wan: { device: "wan", ipv4: ["203.0.113.1/24"] },
  wan6: "wan",
  wg0: { device: "wg0", ipv4: ["192.168.100.1/24"] },
};

/** Masquerade tunnel → LAN and nothing else (FINDINGS.md a): the egress zone is nat's `src`. */
const MASQ = `
config nat 'wgmgr_wg0_masq'
	option name 'wgmgr-wg0-masq'
	option src 'lan'
	option src_ip '192.168.100.0/24'
	option dest_ip '!192.168.100.0/24'
	option target 'MASQUERADE'
	option family 'ipv4'
	option proto 'all'
`;

/** One device may reach one LAN host on one TCP port (FINDINGS.md b). */
const PER_DEVICE = `
config rule 'wgmgr_wg0_dev1_r1'
	option name 'wgmgr wg0 dev1: ${LAN_HOST}:${PORT}'
	option src 'wg0'
	option dest 'lan'
	list src_ip '${DEVICE}'
	option dest_ip '${LAN_HOST}'
	option proto 'tcp'
	option dest_port '${PORT}'
	option target 'ACCEPT'
`;

/** The last of the per-device rules: whatever else comes in from the tunnel is rejected. */
const REJECT_REST = `
config rule 'wgmgr_wg0_reject'
	option name 'wgmgr wg0: everything else'
	option src 'wg0'
	option dest '*'
	option proto 'all'
	option target 'REJECT'
`;

/** Device to device inside the own zone (FINDINGS.md c). */
const HUB_RULE = `
config rule 'wgmgr_wg0_hub'
	option name 'wgmgr wg0: device to device'
	option src 'wg0'
	option dest 'wg0'
	option proto 'all'
	option target 'ACCEPT'
`;

/** Drops the named sections from a firewall config text. */
function withoutSections(text: string, names: string[]): string {
  return text
    .split(/\n(?=config )/)
    .filter((s) => !names.some((n) => s.startsWith(`config forwarding '${n}'`) || s.startsWith(`config rule '${n}'`)))
    .join("\n");
}

describe.skipIf(skipReason !== undefined).sequential("fw4's rules with real traffic through a WireGuard tunnel", () => {
  const topo = new Topology();
  const client = { ns: "", wan: "" };
  const client2 = { ns: "", wan: "" };
  const routers: TestRouter[] = [];
  let listener: ChildProcess | undefined;
  const firewalls: Record<"lan" | "own", string> = { lan: "", own: "" };

  /** The firewall config of `setup` in `zone` plus `extra`, rendered by fw4 and loaded into the router. */
  const apply = (zone: "lan" | "own", extra = "", drop: string[] = [], edit = (text: string) => text): string => {
    const r = new TestRouter();
    routers.push(r);
    writeFileSync(join(r.confdir, "firewall"), edit(withoutSections(firewalls[zone], drop)) + extra);
    const ruleset = fw4Print(r.confdir, IFACES);
    loadRuleset(topo.router, ruleset);
    return ruleset;
  };

  /** The counter named `name` (packets) of the LAN host, or of another namespace's probe table. */
  const seen = (name: string, ns = topo.lanhost): number => {
    const out = nsExec(ns, ["nft", "list", "counter", "inet", "probe", name]).stdout;
    return Number(/packets (\d+)/.exec(out)?.[1] ?? NaN);
  };
  const resetCounters = () => {
    for (const ns of [topo.lanhost, client2.ns]) nsExec(ns, ["nft", "reset", "counters", "table", "inet", "probe"]);
  };

  /** A TCP connection from the device to addr:PORT: "ok" (the listener answered), or the error. */
  const connect = (addr: string): string => {
    const script = `exec 3<>/dev/tcp/${addr}/${PORT} && head -c 2 <&3`;
    const r = nsExec(client.ns, ["timeout", "3", "bash", "-c", script], { allowFail: true });
    return r.ok && r.stdout === "ok" ? "ok" : r.status === 124 ? "timeout" : r.stderr.includes("refused") ? "refused" : r.stderr.trim();
  };

  beforeAll(async () => {
    for (const zone of ["lan", "own"] as const) {
      const r = new TestRouter();
      routers.push(r);
      const reply = r.call("setup", { listen_port: 51820, address: "192.168.100.1/24", zone });
      if (reply.error) throw new Error(JSON.stringify(reply.error));
      firewalls[zone] = r.file("firewall");
    }

    topo.build(`${ROUTER_LAN}/24`);
    Object.assign(client, topo.addClient());
    Object.assign(client2, topo.addClient());
    ipn(topo.lanhost, `address add ${LAN_OTHER}/24 dev eth0`);
    nsExec(topo.lanhost, ["nft", "-f", "-"], {
      input: `table inet probe {
  counter ping_from_router {}
  counter ping_from_device {}
  counter syn_host {}
  counter syn_other {}
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr ${ROUTER_LAN} icmp type echo-request counter name ping_from_router
    ip saddr ${DEVICE} icmp type echo-request counter name ping_from_device
    ip daddr ${LAN_HOST} tcp dport ${PORT} tcp flags syn / syn,ack counter name syn_host
    ip daddr ${LAN_OTHER} tcp dport ${PORT} tcp flags syn / syn,ack counter name syn_other
  }
}
`,
    });
    // The LAN host answers "ok" on PORT, on both its addresses.
    const argv = inNamespace(topo.lanhost, ["node", "-e", `require("net").createServer((s) => s.end("ok")).listen(${PORT}, "0.0.0.0")`]);
    listener = spawn(argv[0], argv.slice(1), { stdio: "ignore" });

    // The tunnel, as netifd and wg-quick would set it up (test/e2e does that with the plugin).
    const key = () => nsExec(topo.router, ["wg", "genkey"]).stdout.trim();
    const pub = (k: string) => nsExec(topo.router, ["wg", "pubkey"], { input: k }).stdout.trim();
    const [rk, ck, ck2] = [key(), key(), key()];
    await startWireguardGo(topo.router, "wg0");
    wgConf(
      topo.router,
      "setconf",
      "wg0",
      `[Interface]\nPrivateKey = ${rk}\nListenPort = 51820\n\n` +
        `[Peer]\nPublicKey = ${pub(ck)}\nAllowedIPs = ${DEVICE}/32\n\n[Peer]\nPublicKey = ${pub(ck2)}\nAllowedIPs = ${DEVICE2}/32\n`,
    );
    ipn(topo.router, "address add 192.168.100.1/24 dev wg0");
    ipn(topo.router, "link set wg0 up");
    for (const [c, k, addr] of [[client, ck, DEVICE], [client2, ck2, DEVICE2]] as const) {
      await startWireguardGo(c.ns, "wg0");
      wgConf(
        c.ns,
        "setconf",
        "wg0",
        `[Interface]\nPrivateKey = ${k}\n\n[Peer]\nPublicKey = ${pub(rk)}\nEndpoint = 203.0.113.1:51820\nAllowedIPs = 192.168.100.0/24, 192.168.1.0/24\nPersistentKeepalive = 1\n`,
      );
      ipn(c.ns, `address add ${addr}/32 dev wg0`);
      ipn(c.ns, "link set wg0 up");
      ipn(c.ns, "route add 192.168.100.0/24 dev wg0");
      ipn(c.ns, "route add 192.168.1.0/24 dev wg0");
    }
    // The second device counts where the echo requests it gets come from.
    nsExec(client2.ns, ["nft", "-f", "-"], {
      input: `table inet probe {
  counter ping_from_router {}
  counter ping_from_device {}
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr 192.168.100.1 icmp type echo-request counter name ping_from_router
    ip saddr ${DEVICE} icmp type echo-request counter name ping_from_device
  }
}
`,
    });
    const listening = await poll(() => nsExec(topo.lanhost, ["ss", "-Hltn", `sport = :${PORT}`]).stdout.includes(String(PORT)), 5000);
    if (!listening) throw new Error("the LAN host's listener did not start");
  });

  afterAll(() => {
    if (listener) stopProcess(listener);
    topo.cleanup();
    for (const r of routers) r.cleanup();
  });

  it("the handshake rule lets the device in from wan, and the tunnel carries traffic to the router", async () => {
    apply("own");
    const up = await poll(() => pingOnce(client.ns, "192.168.100.1"), 5000);
    expect(up, "ping 192.168.100.1 through the tunnel").toBe(true);
  });

  for (const zone of ["own", "lan"] as const) {
    it(`masquerade, wg0 in zone ${zone}: a LAN host routing elsewhere answers only with the nat section, and sees the router's LAN address`, () => {
      ipn(topo.lanhost, "route replace default via 192.168.1.254"); // not the router: a side router
      try {
        apply(zone);
        resetCounters();
        expect(pingOnce(client.ns, LAN_HOST), "no reply without masquerade").toBe(false);
        expect(seen("ping_from_device"), "the request did arrive, from the device's own address").toBeGreaterThan(0);
        expect(seen("ping_from_router")).toBe(0);

        const ruleset = apply(zone, MASQ);
        expect(ruleset).toContain('ip saddr 192.168.100.0/24 ip daddr != 192.168.100.0/24 counter masquerade comment "!fw4: wgmgr-wg0-masq"');
        resetCounters();
        expect(pingOnce(client.ns, LAN_HOST), "a reply with masquerade").toBe(true);
        expect(seen("ping_from_router"), "the LAN host saw the router's LAN address").toBeGreaterThan(0);
        expect(seen("ping_from_device")).toBe(0);
        const nat = nsExec(topo.router, ["nft", "list", "chain", "inet", "fw4", "srcnat_lan"]).stdout;
        expect(nat).toMatch(/packets [1-9]\d* .* masquerade/);
      } finally {
        ipn(topo.lanhost, `route replace default via ${ROUTER_LAN}`);
      }
    });
  }

  it("per device: one rule lets the device reach one LAN host:port; another LAN address and other traffic are rejected", () => {
    // The own zone without the zone-wide forwardings, which would accept everything.
    const ruleset = apply("own", PER_DEVICE, ["wgmgr_wg0_to_lan", "wgmgr_wg0_to_wan"]);
    expect(ruleset).toContain(
      `ip saddr ${DEVICE} ip daddr ${LAN_HOST} tcp dport ${PORT} counter jump accept_to_lan comment "!fw4: wgmgr wg0 dev1: ${LAN_HOST}:${PORT}"`,
    );
    resetCounters();
    expect(connect(LAN_HOST)).toBe("ok");
    expect(seen("syn_host")).toBeGreaterThan(0);
    // The router rejects with a TCP reset (handle_reject): refused at once, never reaching the host.
    expect(connect(LAN_OTHER)).toBe("refused");
    expect(seen("syn_other")).toBe(0);
    expect(pingOnce(client.ns, LAN_HOST), "ping is not allowed by the rule").toBe(false);
    expect(seen("ping_from_device")).toBe(0);

    // With today's forwarding wgmgr_wg0_to_lan still there, the other address is reachable too.
    apply("own", PER_DEVICE);
    expect(connect(LAN_OTHER)).toBe("ok");

    // What rejected it was the defaults' forward REJECT (the end of chain forward), not the
    // zone's forward REJECT (which only covers wg0 → wg0): with defaults forward ACCEPT it
    // gets through, unless a last rule src=wg0 dest=* rejects the rest.
    const defaultsAccept = (text: string) => text.replace(/(config defaults\n(?:\t.*\n)*?\toption forward )'REJECT'/, "$1'ACCEPT'");
    const open = apply("own", PER_DEVICE, ["wgmgr_wg0_to_lan", "wgmgr_wg0_to_wan"], defaultsAccept);
    expect(chainRules(open, "forward")).not.toContain("jump handle_reject");
    expect(connect(LAN_OTHER)).toBe("ok");
    apply("own", PER_DEVICE + REJECT_REST, ["wgmgr_wg0_to_lan", "wgmgr_wg0_to_wan"], defaultsAccept);
    expect(connect(LAN_OTHER)).toBe("refused");
    expect(connect(LAN_HOST)).toBe("ok");
  });

  it("tunnel to tunnel: accepted in zone lan and by the own zone's hub rule src=dest=wg0, rejected by the zone's forward REJECT without it", async () => {
    apply("lan");
    expect(await poll(() => pingOnce(client2.ns, "192.168.100.1"), 5000), "the second device is up").toBe(true);
    resetCounters();
    expect(pingOnce(client.ns, DEVICE2), "zone lan: forward ACCEPT covers wg0 → wg0").toBe(true);
    expect(seen("ping_from_device", client2.ns)).toBeGreaterThan(0);

    // The nat section without its dest_ip exclusion would masquerade device → device too (wg0 is a lan device).
    apply("lan", MASQ.replace("\toption dest_ip '!192.168.100.0/24'\n", ""));
    resetCounters();
    expect(pingOnce(client.ns, DEVICE2)).toBe(true);
    expect(seen("ping_from_router", client2.ns), "masqueraded to the router's wg0 address").toBeGreaterThan(0);
    expect(seen("ping_from_device", client2.ns)).toBe(0);
    apply("lan", MASQ);
    resetCounters();
    expect(pingOnce(client.ns, DEVICE2)).toBe(true);
    expect(seen("ping_from_device", client2.ns), "with the exclusion the device sees the other device").toBeGreaterThan(0);
    expect(seen("ping_from_router", client2.ns)).toBe(0);

    apply("own", "", ["wgmgr_wg0_hub"]);
    expect(pingOnce(client.ns, DEVICE2), "own zone, forward REJECT: reject_to_wg0").toBe(false);
    apply("own", HUB_RULE, ["wgmgr_wg0_hub"]);
    expect(pingOnce(client.ns, DEVICE2), "own zone with the rule src=wg0 dest=wg0").toBe(true);
    // What setup writes for an own zone carries that rule: devices and sites reach each other.
    apply("own");
    expect(pingOnce(client.ns, DEVICE2), "own zone as setup writes it (wgmgr_wg0_hub)").toBe(true);
  });
});

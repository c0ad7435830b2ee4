// The firewall sections the plugin writes, rendered by the real firewall4 (fw4 print) and
// checked by nft (fw4 check), on the OpenWrt default configs. Needs WGMGR_REAL_FW4 (see
// test/lib/fw4.ts); without it every test here is skipped, loudly.
import { afterEach, describe, expect, it } from "vitest";
import { chainRules, DEFAULT_IFACES, fw4Check, fw4Missing, fw4Print } from "../lib/fw4";
import { TestRouter } from "../lib/router";

const skipReason = fw4Missing();
if (skipReason) {
  console.warn(
    `\n${"!".repeat(78)}\n!! wgmgr fw4: SKIPPING every test with the real firewall4: ${skipReason}.\n` +
      `!! Set WGMGR_REAL_FW4 to the fw4 wrapper (contract in test/lib/fw4.ts). Nothing was verified with fw4.\n${"!".repeat(78)}\n`,
  );
}

describe.skipIf(skipReason !== undefined)("wgmgr's firewall sections in the real fw4", () => {
  let r: TestRouter | undefined;
  afterEach(() => {
    r?.cleanup();
    r = undefined;
  });

  /** A router after `setup` in `zone`; fw4 check must pass without a warning. */
  const setUp = (zone: "lan" | "own"): string => {
    r = new TestRouter();
    const reply = r.call("setup", { listen_port: 51820, address: "192.168.100.1/24", zone });
    expect(reply.error).toBeUndefined();
    const check = fw4Check(r.confdir);
    expect(check.stderr).toBe("");
    expect(check.warnings).toEqual([]);
    expect(check.stdout).toContain("Ruleset passes nftables check.");
    expect(check.ok).toBe(true);
    return fw4Print(r.confdir);
  };

  it("the OpenWrt defaults alone pass fw4 check (the baseline)", () => {
    r = new TestRouter();
    const check = fw4Check(r.confdir);
    expect(check.warnings).toEqual([]);
    expect(check.ok).toBe(true);
    expect(chainRules(fw4Print(r.confdir), "input_wan")).not.toContain('udp dport 51820 counter accept comment "!fw4: Allow-WireGuard-wg0"');
  });

  it("zone lan: the handshake is accepted from wan and wg0 is in every chain of the lan zone", () => {
    const nft = setUp("lan");
    expect(chainRules(nft, "input_wan")).toContain('udp dport 51820 counter accept comment "!fw4: Allow-WireGuard-wg0"');
    expect(nft).toContain('define lan_devices = { "br-lan", "wg0" }');
    expect(nft).toContain("define lan_subnets = { 192.168.1.0/24, 192.168.100.0/24 }");
    expect(chainRules(nft, "input")).toContain('iifname { "br-lan", "wg0" } jump input_lan comment "!fw4: Handle lan IPv4/IPv6 input traffic"');
    expect(chainRules(nft, "forward")).toContain('iifname { "br-lan", "wg0" } jump forward_lan comment "!fw4: Handle lan IPv4/IPv6 forward traffic"');
    expect(chainRules(nft, "output")).toContain('oifname { "br-lan", "wg0" } jump output_lan comment "!fw4: Handle lan IPv4/IPv6 output traffic"');
    expect(chainRules(nft, "accept_from_lan")).toEqual(['iifname { "br-lan", "wg0" } counter accept comment "!fw4: accept lan IPv4/IPv6 traffic"']);
    expect(chainRules(nft, "accept_to_lan")).toEqual(['oifname { "br-lan", "wg0" } counter accept comment "!fw4: accept lan IPv4/IPv6 traffic"']);
    // lan's forward ACCEPT ends forward_lan: wg0 → lan, lan → wg0 and wg0 → wg0 are accepted; lan → wan by the default forwarding.
    expect(chainRules(nft, "forward_lan")).toEqual(['jump accept_to_wan comment "!fw4: Accept lan to wan forwarding"', "jump accept_to_lan"]);
    expect(nft).not.toContain("wg0_devices");
  });

  it("zone own: a zone wg0 with input ACCEPT, forward REJECT, the hub rule and the three forwardings", () => {
    const nft = setUp("own");
    expect(chainRules(nft, "input_wan")).toContain('udp dport 51820 counter accept comment "!fw4: Allow-WireGuard-wg0"');
    expect(nft).toContain('define lan_devices = { "br-lan" }');
    expect(nft).toContain('define wg0_devices = { "wg0" }');
    expect(nft).toContain("define wg0_subnets = { 192.168.100.0/24 }");
    expect(chainRules(nft, "input")).toContain('iifname "wg0" jump input_wg0 comment "!fw4: Handle wg0 IPv4/IPv6 input traffic"');
    expect(chainRules(nft, "forward")).toContain('iifname "wg0" jump forward_wg0 comment "!fw4: Handle wg0 IPv4/IPv6 forward traffic"');
    expect(chainRules(nft, "output")).toContain('oifname "wg0" jump output_wg0 comment "!fw4: Handle wg0 IPv4/IPv6 output traffic"');
    expect(chainRules(nft, "input_wg0")).toEqual(["jump accept_from_wg0"]);
    expect(chainRules(nft, "output_wg0")).toEqual(["jump accept_to_wg0"]);
    expect(chainRules(nft, "forward_wg0")).toEqual([
      // wgmgr's hub rule: devices and sites reach each other (the zone's forward REJECT would stop them)
      'counter jump accept_to_wg0 comment "!fw4: wgmgr-wg0-hub"',
      'jump accept_to_lan comment "!fw4: Accept wg0 to lan forwarding"',
      'jump accept_to_wan comment "!fw4: Accept wg0 to wan forwarding"',
      "jump reject_to_wg0",
    ]);
    expect(chainRules(nft, "forward_lan")).toEqual([
      'jump accept_to_wan comment "!fw4: Accept lan to wan forwarding"',
      'jump accept_to_wg0 comment "!fw4: Accept lan to wg0 forwarding"',
      "jump accept_to_lan",
    ]);
    expect(chainRules(nft, "reject_to_wg0")).toEqual(['oifname "wg0" counter jump handle_reject comment "!fw4: reject wg0 IPv4/IPv6 traffic"']);
    // Tunnel traffic to the Internet is masqueraded by wan's own masq, as the LAN's is.
    expect(chainRules(nft, "srcnat_wan")).toEqual(['meta nfproto ipv4 masquerade comment "!fw4: Masquerade IPv4 wan traffic"']);
  });

  it("switching from own back to lan leaves no wg0 zone in fw4's ruleset", () => {
    setUp("own");
    const back = r!.call("setup", { zone: "lan" });
    expect(back.error).toBeUndefined();
    const check = fw4Check(r!.confdir);
    expect(check.warnings).toEqual([]);
    expect(check.ok).toBe(true);
    const nft = fw4Print(r!.confdir);
    expect(nft).not.toContain("forward_wg0");
    expect(nft).toContain('define lan_devices = { "br-lan", "wg0" }');
  });

  /** fw4 check of the router's firewall must pass without a warning; returns fw4 print. */
  const checked = (ifaces?: Record<string, any>): string => {
    const check = fw4Check(r!.confdir, ifaces);
    expect(check.stderr, check.stderr).toBe("");
    expect(check.warnings).toEqual([]);
    expect(check.ok).toBe(true);
    return fw4Print(r!.confdir, ifaces);
  };

  it("masquerade (side router): IPv4 and IPv6 tunnel traffic leaving into the LAN, device-to-device excluded; off removes it", () => {
    r = new TestRouter();
    expect(r.call("setup", { address: "192.168.100.1/24", address6: "fd00:100::1/64", masquerade: true }).error).toBeUndefined();
    const ifaces = { ...DEFAULT_IFACES, wg0: { device: "wg0", ipv4: ["192.168.100.1/24"], ipv6: ["fd00:100::1/64"] } };
    const nft = checked(ifaces);
    expect(chainRules(nft, "srcnat")).toContain('oifname { "br-lan", "wg0" } jump srcnat_lan comment "!fw4: Handle lan IPv4/IPv6 srcnat traffic"');
    expect(chainRules(nft, "srcnat_lan")).toEqual([
      'ip saddr 192.168.100.0/24 ip daddr != 192.168.100.0/24 counter masquerade comment "!fw4: wgmgr-wg0-masquerade"',
      'ip6 saddr fd00:100::/64 ip6 daddr != fd00:100::/64 counter masquerade comment "!fw4: wgmgr-wg0-masquerade6"',
    ]);
    r.call("setup", { masquerade: false });
    expect(checked(ifaces)).not.toContain("srcnat_lan");
  });

  it("an imported full tunnel (zone own, default_route tunnel): the tunnel zone masquerades; no WAN handshake rule", () => {
    r = new TestRouter();
    const file =
      "[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nAddress = 10.64.12.34/32\n\n" +
      "[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nAllowedIPs = 0.0.0.0/0\nEndpoint = 198.51.100.9:51820\n";
    const imported = r.call("import", { interface: "wg1", config: file, zone: "own", default_route: "tunnel" });
    expect(imported.error, JSON.stringify(imported)).toBeUndefined();
    const nft = checked({ ...DEFAULT_IFACES, wg1: { device: "wg1", ipv4: ["10.64.12.34/32"] } });
    expect(chainRules(nft, "srcnat_wg1")).toEqual(['meta nfproto ipv4 masquerade comment "!fw4: Masquerade IPv4 wg1 traffic"']);
    expect(chainRules(nft, "forward_lan")).toContain('jump accept_to_wg1 comment "!fw4: Accept lan to wg1 forwarding"');
    expect(chainRules(nft, "input_wan").join("\n")).not.toContain("wg1");
  });
});

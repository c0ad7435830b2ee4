// Installing and removing the app's package the way opkg does, into a temporary root with
// IPKG_INSTROOT set (as when an image is built; instroot.ts): /tmp/luci-* and everything
// around the root are checked to be untouched. The live-system branches of the package's
// own scripts run with every command stubbed, to see what they would do on a router.
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ImageRoot, luciTmp, stubCalls } from "./instroot";
import { buildInto, controlText, ensureBuilt, type Ipk, readIpk, removeTemps } from "./opkg";

const PKGNAME = "luci-app-wgmgr";
/** A router running a wgmgr-made tunnel: /etc/config/network and firewall (abridged). */
const NETWORK = `
config interface 'loopback'
	option device 'lo'
	option proto 'static'
	option ipaddr '127.0.0.1'
	option netmask '255.0.0.0'

config interface 'lan'
	option device 'br-lan'
	option proto 'static'
	option ipaddr '192.168.1.1'
	option netmask '255.255.255.0'

config interface 'wan'
	option device 'eth1'
	option proto 'dhcp'

config interface 'wg0'
	option proto 'wireguard'
	option private_key 'QCL7WP3ZzQm9f9pfTcVj1PvTZVU7hN7bQb1u0zqW4Us='
	option listen_port '51820'
	list addresses '192.168.100.1/24'

config wireguard_wg0 'wg0_phone'
	option description 'phone'
	option public_key 'hN0SPv2YvXbGNdoSzb5Ph8HkPn9nvb+4mYLQv8eH8Tg='
	list allowed_ips '192.168.100.2/32'
	option route_allowed_ips '1'
`;
const FIREWALL = `
config zone
	option name 'lan'
	list network 'lan'
	list network 'wg0'
	option input 'ACCEPT'
	option output 'ACCEPT'
	option forward 'ACCEPT'

config zone
	option name 'wan'
	list network 'wan'
	option input 'REJECT'
	option output 'ACCEPT'
	option forward 'REJECT'
	option masq '1'

config forwarding
	option src 'lan'
	option dest 'wan'

config rule 'wgmgr_wg0_handshake'
	option name 'Allow-WireGuard-wg0'
	option src 'wan'
	option proto 'udp'
	option dest_port '51820'
	option target 'ACCEPT'
`;

let ipk: Ipk;
let area: ImageRoot;
let root: string;
const canary = join(tmpdir(), `luci-indexcache.wgmgr-ipk-test-${process.pid}.json`);

beforeAll(() => {
  ensureBuilt();
  ipk = readIpk(readFileSync(buildInto()));
  area = new ImageRoot();
  root = area.root;
  mkdirSync(join(root, "etc/config"), { recursive: true });
  writeFileSync(join(root, "etc/config/network"), NETWORK);
  writeFileSync(join(root, "etc/config/firewall"), FIREWALL);
  writeFileSync(canary, "{}");
});

afterAll(() => {
  rmSync(canary, { force: true });
  removeTemps();
});

const runScript = (name: string, arg: string, env: Record<string, string> = {}) => area.run(PKGNAME, name, arg, env);
const runLive = (name: string) => area.live(name, controlText(ipk, name)!);

describe("install into an image root (IPKG_INSTROOT set)", () => {
  let files: string[];
  let before: Record<string, string>;
  let tmpBefore: string[];
  let configBefore: Record<string, string>;

  beforeAll(() => {
    files = area.install(ipk, PKGNAME);
    before = area.snapshot();
    tmpBefore = luciTmp();
    configBefore = {
      network: readFileSync(join(root, "etc/config/network"), "utf8"),
      firewall: readFileSync(join(root, "etc/config/firewall"), "utf8"),
    };
  });

  it("puts the plugin in place, executable, where rpcd looks", () => {
    expect(files).toContain("/usr/libexec/rpcd/wgmgr");
    expect(lstatSync(join(root, "usr/libexec/rpcd/wgmgr")).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(root, "usr/lib/opkg/info", `${PKGNAME}.postinst`)).mode & 0o777).toBe(0o755);
  });

  it("runs postinst → default_postinst → postinst-pkg, which does nothing to the live system", () => {
    const r = runScript("postinst", "configure");
    expect(r.status, r.stderr).toBe(0);
    expect(r.log).toEqual([`default_postinst ${PKGNAME} root=${root}`, "postinst-pkg status=0"]);
    expect(r.log.filter((l) => l.startsWith("STUB")), "no stubbed command ran").toEqual([]);
  });

  it("touches nothing: not the root, not its surroundings, not /tmp/luci-*", () => {
    expect(area.snapshot()).toEqual(before);
    expect(existsSync(canary)).toBe(true);
    expect(luciTmp()).toEqual(tmpBefore);
  });

  it("does nothing at all when IPKG_NO_SCRIPT=1", () => {
    const r = runScript("postinst", "configure", { IPKG_NO_SCRIPT: "1" });
    expect(r.status).toBe(0);
    expect(r.log).toEqual([]);
  });

  it("removes cleanly (prerm, files, postrm) and leaves the WireGuard configuration as it was", () => {
    const pre = runScript("prerm", "remove");
    expect(pre.status, pre.stderr).toBe(0);
    expect(pre.log).toEqual([`default_prerm ${PKGNAME} root=${root}`, "prerm-pkg status=0"]);
    // opkg deletes the package's files (an unmodified conffile too), then runs postrm.
    for (const f of files) unlinkSync(join(root, f));
    const post = runScript("postrm", "remove");
    expect(post.status, post.stderr).toBe(0);
    expect(post.log).toEqual([]);
    expect(existsSync(join(root, "usr/libexec/rpcd/wgmgr"))).toBe(false);
    expect(readFileSync(join(root, "etc/config/network"), "utf8")).toBe(configBefore.network);
    expect(readFileSync(join(root, "etc/config/firewall"), "utf8")).toBe(configBefore.firewall);
    expect(existsSync(canary)).toBe(true);
    expect(luciTmp()).toEqual(tmpBefore);
  });
});

describe("on a live router (IPKG_INSTROOT empty; commands stubbed)", () => {
  const forbidden = /^(uci|ubus|wg|ifup|ifdown|fw4|ip|nft|service|reload_config|kill|opkg) /;

  it("postinst-pkg clears LuCI's index and module caches and reloads rpcd with SIGHUP", () => {
    const r = runLive("postinst-pkg");
    expect(r.status, r.stderr).toBe(0);
    const calls = stubCalls(r);
    expect(calls[0]).toMatch(/^rm -f \/tmp\/luci-indexcache/);
    expect(calls.slice(1)).toEqual(["rm -rf /tmp/luci-modulecache/", "killall -HUP rpcd"]);
    expect(existsSync(canary)).toBe(true);
  });

  it("prerm-pkg changes nothing: the tunnel keeps running from network/firewall", () => {
    const r = runLive("prerm-pkg");
    expect(r.status, r.stderr).toBe(0);
    expect(stubCalls(r)).toEqual([]);
  });

  it("postrm only clears LuCI's caches and reloads rpcd, after the files are gone", () => {
    const r = area.live("postrm", controlText(ipk, "postrm")!, "exec");
    expect(r.status, r.stderr).toBe(0);
    const calls = stubCalls(r);
    expect(calls.map((c) => c.split(" ")[0])).toEqual(["rm", "rm", "killall"]);
    expect(calls[2]).toBe("killall -HUP rpcd");
  });

  it("no install script touches UCI, the network, the firewall or WireGuard", () => {
    for (const name of ["postinst", "postinst-pkg", "prerm", "prerm-pkg", "postrm"]) {
      const code = controlText(ipk, name)!
        .split("\n")
        .filter((l) => !/^\s*#/.test(l))
        .join("\n");
      expect(code, name).not.toMatch(/\b(uci|ubus|wg|ifdown|ifup|fw4|nft)\b|\/etc\/config|network|firewall/);
    }
    for (const name of ["postinst-pkg", "prerm-pkg", "postrm"]) {
      expect(stubCalls(runLive(name)).filter((c) => forbidden.test(c)), name).toEqual([]);
    }
  });
});

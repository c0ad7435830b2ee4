// A test stand-in for `wg-quick up` on a client: takes the exact wg-quick text wgmgr's
// peer_config returns and brings it up inside a network namespace the way wg-quick(8)
// does, with wireguard-go as the device:
//   1. the device (wireguard-go, wg-quick's own fallback without the kernel module);
//   2. `wg setconf` of the text minus wg-quick-only [Interface] keys (`wg-quick strip`:
//      Address, DNS, MTU, Table, PreUp, PostUp, PreDown, PostDown, SaveConfig);
//   3. `ip address add` of each Address entry;
//   4. the MTU (given, else the endpoint route's device MTU − 80), link up;
//   5. one route per AllowedIPs entry, longest prefix first; a /0 entry gets wg-quick's
//      policy routing: `wg set <if> fwmark 51820`, `ip rule add not fwmark 51820 table
//      51820`, `ip rule add table main suppress_prefixlength 0`, the /0 route in table
//      51820. The tunnel's own UDP packets carry the fwmark and keep using the main table,
//      i.e. the route to the router's endpoint over the WAN veth.
// Not done: DNS (no resolvconf in the namespace; the value is returned for assertions),
// wg-quick's nft/iptables anti-spoofing rules, and the Table/hook keys (wgmgr never writes them).
import { ChildProcess } from "node:child_process";
import { ipn, nsExec, startWireguardGo, wgConf } from "./sys";

const QUICK_ONLY = new Set(["address", "dns", "mtu", "table", "preup", "postup", "predown", "postdown", "saveconfig"]);

export interface WgQuickConfig {
  /** What `wg-quick strip` prints: the text `wg setconf` accepts. */
  stripped: string;
  addresses: string[];
  dns: string[];
  mtu?: number;
  /** [Peer] keys and values, one record per peer (keys lower-case), for assertions. */
  peers: Record<string, string>[];
  interface: Record<string, string>;
}

/** Parses wg-quick text like wg-quick's parse_options (keys case-insensitive, '#' comments). */
export function parseWgQuick(text: string): WgQuickConfig {
  const out: WgQuickConfig = { stripped: "", addresses: [], dns: [], peers: [], interface: {} };
  let section = "";
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop(); // the newline ends the last line; no empty line after it
  for (const line of lines) {
    const stripped = line.replace(/#.*/, "");
    const eq = stripped.indexOf("=");
    const key = (eq >= 0 ? stripped.slice(0, eq) : stripped).trim();
    const value = eq >= 0 ? stripped.slice(eq + 1).trim() : "";
    if (key.startsWith("[")) {
      section = key.toLowerCase();
      if (section === "[peer]") out.peers.push({});
    } else if (key !== "") {
      const rec = section === "[interface]" ? out.interface : out.peers[out.peers.length - 1];
      if (rec) rec[key.toLowerCase()] = rec[key.toLowerCase()] !== undefined ? `${rec[key.toLowerCase()]}, ${value}` : value;
    }
    if (section === "[interface]" && QUICK_ONLY.has(key.toLowerCase())) {
      const items = value.split(/[,\s]+/).filter(Boolean);
      if (key.toLowerCase() === "address") out.addresses.push(...items);
      else if (key.toLowerCase() === "dns") out.dns.push(...items);
      else if (key.toLowerCase() === "mtu") out.mtu = Number(value);
      continue;
    }
    out.stripped += line + "\n";
  }
  return out;
}

export interface WgQuickInterface {
  dev: string;
  config: WgQuickConfig;
  process: ChildProcess;
  /** Routes added, for the report/assertions ("0.0.0.0/0" means the fwmark policy route). */
  routes: string[];
}

/** `wg-quick up` of `text` as device `dev` inside namespace `ns`. */
export async function wgQuickUp(ns: string, dev: string, text: string): Promise<WgQuickInterface> {
  const config = parseWgQuick(text);
  if (config.interface.privatekey === undefined) throw new Error(`client config for ${dev} has no PrivateKey:\n${text}`);
  const proc = await startWireguardGo(ns, dev);
  wgConf(ns, "setconf", dev, config.stripped);
  for (const a of config.addresses) ipn(ns, `-${a.includes(":") ? 6 : 4} address add ${a} dev ${dev}`);
  ipn(ns, `link set mtu ${config.mtu ?? autoMtu(ns, dev)} up dev ${dev}`);

  const allowed = nsExec(ns, ["wg", "show", dev, "allowed-ips"])
    .stdout.split(/\s+/)
    .filter((w) => /^[0-9a-z:.]+\/[0-9]+$/.test(w))
    .sort((a, b) => Number(b.split("/")[1]) - Number(a.split("/")[1]));
  const routes: string[] = [];
  for (const cidr of allowed) {
    const fam = cidr.includes(":") ? 6 : 4;
    if (cidr.endsWith("/0")) addDefault(ns, dev, fam, cidr);
    else if (ipn(ns, `-${fam} route show dev ${dev} match ${cidr}`).stdout.trim() === "") ipn(ns, `-${fam} route add ${cidr} dev ${dev}`);
    routes.push(cidr);
  }
  return { dev, config, process: proc, routes };
}

const FWMARK = 51820;

function addDefault(ns: string, dev: string, fam: 4 | 6, cidr: string): void {
  if (nsExec(ns, ["wg", "show", dev, "fwmark"]).stdout.trim() === "off") nsExec(ns, ["wg", "set", dev, "fwmark", String(FWMARK)]);
  ipn(ns, `-${fam} rule add not fwmark ${FWMARK} table ${FWMARK}`);
  ipn(ns, `-${fam} rule add table main suppress_prefixlength 0`);
  ipn(ns, `-${fam} route add ${cidr} dev ${dev} table ${FWMARK}`);
  if (fam === 4) nsExec(ns, ["sysctl", "-q", "net.ipv4.conf.all.src_valid_mark=1"]);
}

/** wg-quick's set_mtu_up without MTU: the device MTU towards the endpoints (or the default route) minus 80. */
function autoMtu(ns: string, dev: string): number {
  let mtu = 0;
  const endpoints = nsExec(ns, ["wg", "show", dev, "endpoints"]).stdout;
  const targets = [...endpoints.matchAll(/\t\[?([0-9a-fA-F.:]+)\]?:\d+/g)].map((m) => m[1]);
  for (const t of targets.length ? targets : ["default"]) {
    const r = ipn(ns, t === "default" ? "route show default" : `route get ${t}`, { allowFail: true });
    const out = /\bdev (\S+)/.exec(r.stdout)?.[1];
    if (!out) continue;
    const m = /\bmtu (\d+)/.exec(ipn(ns, `link show dev ${out}`).stdout);
    if (m) mtu = Math.max(mtu, Number(m[1]) - 80);
  }
  return mtu > 0 ? mtu : 1420;
}

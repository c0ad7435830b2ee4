// Real firewall4 (OpenWrt's fw4) for tests: renders and checks the firewall config the
// plugin writes, and loads the ruleset into a test network namespace.
//
// fw4 is not packaged for Debian: it is built outside this repository (ucode, libuci,
// libubox and firewall4 from their sources) together with a small wrapper script, and the
// environment variable WGMGR_REAL_FW4 names that wrapper. Without it the tests that need
// fw4 are skipped, loudly. The wrapper's contract:
//
//   $WGMGR_REAL_FW4 CONFDIR IFDUMP print|check
//
//   CONFDIR  a directory that stands in for /etc/config: fw4 reads CONFDIR/firewall.
//   IFDUMP   a JSON file, the answer to `ubus call network.interface dump` that fw4 asks
//            netifd for ({"interface": [{"interface": "lan", "up": true, "device": "br-lan",
//            "l3_device": "br-lan", "ipv4-address": [{"address": "192.168.1.1", "mask": 24}],
//            ...}]}): fw4 maps a zone's `network` to devices and subnets with it only, an
//            interface missing there covers no device.
//   print    what `fw4 print` prints: the nft ruleset on stdout, fw4's warnings ("[!] Section
//            @rule[3] (...) specifies unknown option ...") on stderr; exit 0 unless fw4 failed.
//   check    what `fw4 check` does: the same ruleset through `nft -c -f` (in a network
//            namespace of its own); exit 0 and "Ruleset passes nftables check." on stdout
//            only when nft accepts it; fw4's warnings and nft's errors on stderr.
//   Exit 2 on bad usage. The wrapper changes nothing in CONFDIR and nothing on the host.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nsExec } from "../e2e/sys";
import { removeTempDir, tempDir } from "./temp.mjs";

/** The fw4 wrapper WGMGR_REAL_FW4 names, or undefined when it is not set. */
export function fw4Path(): string | undefined {
  return process.env.WGMGR_REAL_FW4 || undefined;
}

/** Why the real fw4 cannot be used here, or undefined when it can. */
export function fw4Missing(): string | undefined {
  const p = fw4Path();
  if (p === undefined) return "WGMGR_REAL_FW4 is not set";
  if (!existsSync(p)) return `WGMGR_REAL_FW4=${p} does not exist`;
  return undefined;
}

/** One netifd interface as fw4 sees it: its layer-3 device and addresses ("192.168.1.1/24"). */
export interface Iface {
  device: string;
  ipv4?: string[];
  ipv6?: string[];
  up?: boolean;
}

/** Interface name → device name, or the whole description. */
export type Ifaces = Record<string, string | Iface>;

/** The interfaces of the OpenWrt defaults (test/fixtures/openwrt-defaults) plus wg0, as netifd runs them. */
export const DEFAULT_IFACES: Ifaces = {
  loopback: { device: "lo", ipv4: ["127.0.0.1/8"] },
  lan: { device: "br-lan", ipv4: ["192.168.1.1/24"] },
  wan: { device: "wan", ipv4: ["203.0.113.1/24"] },
  wan6: "wan",
  wg0: { device: "wg0", ipv4: ["192.168.100.1/24"] },
};

function addresses(list: string[] | undefined): { address: string; mask: number }[] {
  return (list ?? []).map((a) => {
    const [address, mask] = a.split("/");
    return { address, mask: Number(mask ?? (address.includes(":") ? 128 : 32)) };
  });
}

/** The `network.interface dump` reply netifd would give for `ifaces` (the fields fw4 reads). */
export function interfaceDump(ifaces: Ifaces): { interface: Record<string, unknown>[] } {
  return {
    interface: Object.entries(ifaces).map(([name, v]) => {
      const i: Iface = typeof v === "string" ? { device: v } : v;
      return {
        interface: name,
        up: i.up ?? true,
        available: true,
        proto: "static",
        device: i.device,
        l3_device: i.device,
        "ipv4-address": addresses(i.ipv4),
        "ipv6-address": addresses(i.ipv6),
        "ipv6-prefix-assignment": [],
        data: {},
      };
    }),
  };
}

export interface Fw4Result {
  ok: boolean;
  status: number | null;
  stdout: string;
  stderr: string;
  /** fw4's own warnings: the stderr lines starting with "[!] ". */
  warnings: string[];
}

/** Runs the wrapper: `command` on `confdir` with the interfaces `ifaces`. */
export function fw4Run(command: "print" | "check", confdir: string, ifaces: Ifaces = DEFAULT_IFACES): Fw4Result {
  const bin = fw4Path();
  if (bin === undefined) throw new Error("WGMGR_REAL_FW4 is not set");
  const dir = tempDir("wgmgr-fw4-");
  try {
    const dump = join(dir, "interface-dump.json");
    writeFileSync(dump, JSON.stringify(interfaceDump(ifaces)));
    const r = spawnSync(bin, [confdir, dump, command], { encoding: "utf8", timeout: 30_000, maxBuffer: 16 << 20 });
    const stderr = r.stderr ?? String(r.error ?? "");
    const warnings = stderr.split("\n").filter((l) => l.startsWith("[!] ")).map((l) => l.slice(4));
    return { ok: r.status === 0, status: r.status, stdout: r.stdout ?? "", stderr, warnings };
  } finally {
    removeTempDir(dir);
  }
}

/** `fw4 check`: ok only when nft accepted the rendered ruleset; the warnings say what fw4 ignored. */
export function fw4Check(confdir: string, ifaces: Ifaces = DEFAULT_IFACES): Fw4Result {
  return fw4Run("check", confdir, ifaces);
}

/** `fw4 print`: the nft ruleset text; throws when fw4 fails. */
export function fw4Print(confdir: string, ifaces: Ifaces = DEFAULT_IFACES): string {
  const r = fw4Run("print", confdir, ifaces);
  if (!r.ok) throw new Error(`fw4 print failed (exit ${r.status}):\n${r.stderr}`);
  return r.stdout;
}

/**
 * The rules of one chain of a ruleset fw4 printed (`chain forward_wg0 { … }`), one string
 * per rule, without the chain's type/policy line; [] when there is no such chain.
 */
export function chainRules(ruleset: string, chain: string): string[] {
  const lines = ruleset.split("\n");
  const start = lines.findIndex((l) => l.trim() === `chain ${chain} {`);
  if (start < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    const t = l.trim();
    if (t === "}") break;
    if (t !== "" && !t.startsWith("type ") && !t.startsWith("#")) out.push(t);
  }
  return out;
}

/** Loads a ruleset fw4 printed into network namespace `ns` (`nft -f`): the firewall of that namespace. */
export function loadRuleset(ns: string, text: string): void {
  const dir = tempDir("wgmgr-fw4-ruleset-");
  try {
    const file = join(dir, "ruleset.nft");
    writeFileSync(file, text);
    nsExec(ns, ["nft", "-f", file]);
  } finally {
    removeTempDir(dir);
  }
}

// Reading the running system for assertions, and calling the plugin inside a namespace.
import { join } from "node:path";
import { PLUGIN, LUA, REPO, Reply, TestRouter } from "../lib/router";
import { nsExec, nsExecAsync, ipn } from "./sys";

/**
 * The environment of the plugin on the end-to-end router: the real `wg` and `ip` (inside
 * the router namespace, with its own /var/run/wireguard, they see only the test router),
 * `ubus` answered by the netifd stand-in listening on `netifdSocket` (test/e2e/bin/ubus),
 * and the recording `logger` and /etc/init.d of test/sim. The TestRouter gives the config
 * directory and the libuci stand-in.
 */
export function routerEnv(router: TestRouter, netifdSocket: string): Record<string, string> {
  const { WGMGR_SIM_LIVE: _none, ...env } = router.env;
  return {
    ...env,
    PATH: `${join(REPO, "test/e2e/bin")}:${process.env.PATH ?? ""}:/usr/sbin:/usr/bin:/sbin:/bin`,
    WGMGR_INITDIR: join(REPO, "test/sim/init.d"),
    WGMGR_E2E_NETIFD: netifdSocket,
  };
}

/**
 * Runs the compiled plugin as rpcd does (`wgmgr call <method>`, JSON on stdin, no
 * session: a shell caller) inside namespace `ns`, without blocking this process: the
 * netifd stand-in in this process answers the plugin's `ubus` calls meanwhile.
 */
export async function pluginIn(ns: string, env: Record<string, string>, method: string, input: unknown = {}): Promise<Reply> {
  const r = await nsExecAsync(ns, [LUA, PLUGIN, "call", method], { input: JSON.stringify(input), env });
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new Error(`wgmgr ${method} ${JSON.stringify(input)}: exit ${r.status}, not JSON:\n${r.stdout}\n${r.stderr}`);
  }
}

/** Throws with the reply when a plugin call failed. */
export function ok(reply: Reply, what: string): Reply {
  if (reply.error !== undefined) throw new Error(`${what} failed: ${JSON.stringify(reply)}`);
  return reply;
}

export interface DumpPeer {
  publicKey: string;
  presharedKey: string;
  endpoint?: string;
  allowedIps: string[];
  latestHandshake: number;
  rx: number;
  tx: number;
}

/** `wg show <dev> dump`: peers by public key. */
export function wgPeers(ns: string, dev: string): Map<string, DumpPeer> {
  const lines = nsExec(ns, ["wg", "show", dev, "dump"]).stdout.trim().split("\n").slice(1);
  const peers = new Map<string, DumpPeer>();
  for (const line of lines) {
    const f = line.split("\t");
    if (f.length < 8) continue;
    peers.set(f[0], {
      publicKey: f[0],
      presharedKey: f[1],
      endpoint: f[2] === "(none)" ? undefined : f[2],
      allowedIps: f[3] === "(none)" ? [] : f[3].split(","),
      latestHandshake: Number(f[4]),
      rx: Number(f[5]),
      tx: Number(f[6]),
    });
  }
  return peers;
}

/** Routes on `dev` installed with proto static (netifd's and wgmgr's), as "target" strings. */
export function staticRoutes(ns: string, dev: string): string[] {
  const out = ipn(ns, `-4 route show dev ${dev} proto static`).stdout + ipn(ns, `-6 route show dev ${dev} proto static`).stdout;
  return out
    .split("\n")
    .map((l) => l.split(" ")[0])
    .filter(Boolean)
    .map((t) => (t.includes("/") || t === "default" ? t : `${t}/${t.includes(":") ? 128 : 32}`));
}

/**
 * True when a peer's session survived between two dumps: same handshake (or a normal
 * rekey, which happens every 120 s) and counters that did not restart, which they do
 * when a peer is removed and re-added.
 */
export function sessionKept(before: DumpPeer, after: DumpPeer | undefined): boolean {
  if (!after || after.latestHandshake === 0) return false;
  const sameOrRekey = after.latestHandshake === before.latestHandshake || after.latestHandshake - before.latestHandshake >= 110;
  return sameOrRekey && after.rx >= before.rx && after.tx >= before.tx && after.endpoint === before.endpoint;
}

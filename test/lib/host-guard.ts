// vitest globalSetup: the proof that no test reaches the host's WireGuard.
//
// Before any test runs, the guard puts a WireGuard interface `wg0` where a test that
// leaked out of its simulation or namespace would hit it: wireguard-go in a network
// namespace of the guard's own, with its control socket in the host's
// /var/run/wireguard (which every namespace shares, so the host's `wg show wg0`, `wg
// syncconf wg0` and `wg set wg0` reach it), a private key, port 51999, a peer and a
// route to 10.88.0.0/24. (If the host already has a `wg0` — a developer's VPN — the guard
// watches that one instead, read-only.) After the last test it compares key, port,
// peers and routes with what they were, and fails the run if anything changed.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";

const IF = "wg0";
const SOCKET = `/var/run/wireguard/${IF}.sock`;

const run = (argv: string[], input?: string) => spawnSync(argv[0], argv.slice(1), { encoding: "utf8", input, timeout: 10_000 });
const ok = (argv: string[], input?: string): string => {
  const r = run(argv, input);
  if (r.status !== 0) throw new Error(`host guard: ${argv.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
};
const has = (bin: string) => run(["sh", "-c", `command -v ${bin}`]).status === 0;

let ns: string | undefined;
let wgGo: ChildProcess | undefined;
let watched: { where: string; snapshot: () => string; before: string } | undefined;

/** Key, port, peers (with allowed IPs) and routes of the watched interface, as text. */
function snapshotOf(prefix: string[], routeArgs: string[]): () => string {
  return () => {
    const dump = run([...prefix, "wg", "show", IF, "dump"]);
    const routes = run(["ip", ...routeArgs, "route", "show", "dev", IF]);
    return `wg show ${IF} dump (exit ${dump.status}):\n${dump.stdout}\nroutes:\n${routes.stdout}`;
  };
}

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  for (const bin of ["ip", "wg", "wireguard-go"]) if (!has(bin)) return `'${bin}' is not installed`;
  if (!existsSync("/dev/net/tun") || !statSync("/dev/net/tun").isCharacterDevice()) return "no /dev/net/tun";
  return undefined;
}

async function armSentinel(): Promise<void> {
  ns = `wgmgr-guard-${randomBytes(3).toString("hex")}`;
  ok(["ip", "netns", "add", ns]);
  // Plain `ip netns exec`: the socket goes to the host's /var/run/wireguard on purpose.
  wgGo = spawn("ip", ["netns", "exec", ns, "wireguard-go", "-f", IF], { stdio: "ignore", env: { ...process.env, LOG_LEVEL: "error", WG_PROCESS_FOREGROUND: "1" } });
  for (let i = 0; i < 100 && !existsSync(SOCKET); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(SOCKET)) throw new Error("host guard: wireguard-go did not start");
  const inNs = ["ip", "netns", "exec", ns];
  const key = ok(["wg", "genkey"]).trim();
  const peer = ok(["wg", "pubkey"], ok(["wg", "genkey"])).trim();
  ok([...inNs, "sh", "-c", `umask 077; printf '%s\\n' '${key}' > /dev/shm/${ns}.key && wg set ${IF} private-key /dev/shm/${ns}.key listen-port 51999 peer ${peer} allowed-ips 10.88.0.0/24; rc=$?; rm -f /dev/shm/${ns}.key; exit $rc`]);
  ok(["ip", "-n", ns, "address", "add", "10.88.1.1/32", "dev", IF]);
  ok(["ip", "-n", ns, "link", "set", IF, "up"]);
  ok(["ip", "-n", ns, "route", "add", "10.88.0.0/24", "dev", IF]);
  watched = { where: `the guard's ${IF} (namespace ${ns}, socket ${SOCKET})`, snapshot: snapshotOf(inNs, ["-n", ns]), before: "" };
}

export async function setup(project: TestProject): Promise<void> {
  const reason = whyNot();
  if (reason !== undefined) {
    console.warn(`\n!! host guard NOT armed (${reason}): nothing checks that the tests leave the host's WireGuard alone.\n`);
    project.provide("hostGuard", `not armed: ${reason}`);
    return;
  }
  if (run(["wg", "show", IF, "dump"]).status === 0) {
    // The host has its own wg0: watch it (read-only), and add nothing.
    watched = { where: `the host's own ${IF}`, snapshot: snapshotOf([], []), before: "" };
  } else await armSentinel();
  watched!.before = watched!.snapshot();
  project.provide("hostGuard", `armed: ${watched!.where}`);
}

export async function teardown(): Promise<void> {
  const after = watched?.snapshot();
  const before = watched?.before;
  if (wgGo?.pid !== undefined && wgGo.exitCode === null) process.kill(wgGo.pid, "SIGTERM");
  if (ns !== undefined) run(["ip", "netns", "del", ns]);
  if (watched !== undefined && after !== before) {
    // vitest reports an error thrown here but still exits 0: set the exit status too.
    process.exitCode = 1;
    throw new Error(`host guard: FAILED, the tests changed ${watched.where}!\nbefore:\n${before}\nafter:\n${after}`);
  }
  if (watched !== undefined) console.log(`host guard: ${watched.where} is unchanged (key, port, peers, routes).`);
}

declare module "vitest" {
  export interface ProvidedContext {
    hostGuard: string;
  }
}

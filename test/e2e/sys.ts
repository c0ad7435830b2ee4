// Running commands for the end-to-end tests: one helper that throws with the command's
// output when it fails, network namespace helpers, the wireguard-go processes we start
// (and only those, by pid), and the check that decides whether the machine can run them.
//
// Isolation: a network namespace does not separate WireGuard's userspace control sockets,
// which live in /var/run/wireguard for the whole host (wireguard-go creates <if>.sock
// there, and `wg` looks there after the kernel). So every command run in one of our
// namespaces runs with that directory replaced by the namespace's own (a bind mount in
// the private mount namespace `ip netns exec` makes): a `wg show all dump` in the test
// router sees only the test router's interfaces, never one of the host's.
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { removeTempDir, tempDir } from "../lib/temp.mjs";

export interface CmdResult {
  ok: boolean;
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs argv (no shell); throws with stdout/stderr unless `allowFail`. */
export function cmd(argv: string[], opts: { input?: string; allowFail?: boolean; env?: Record<string, string> } = {}): CmdResult {
  const r = spawnSync(argv[0], argv.slice(1), {
    input: opts.input ?? "",
    encoding: "utf8",
    env: opts.env ?? process.env,
    timeout: 30_000,
    maxBuffer: 16 << 20,
  });
  const res: CmdResult = { ok: r.status === 0, status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? String(r.error ?? "") };
  if (!res.ok && !opts.allowFail) {
    throw new Error(`command failed (exit ${r.status}): ${argv.join(" ")}\n${res.stdout}${res.stderr}`);
  }
  return res;
}

/** The host-wide directory of WireGuard's userspace control sockets. */
export const WG_SOCKET_DIR = "/var/run/wireguard";

let area: string | undefined; // this run's directory: one socket directory per namespace

/** The namespace's own /var/run/wireguard. */
export function socketDir(ns: string): string {
  return join(area as string, ns, "wireguard");
}

/**
 * argv prefixed so that it runs inside namespace `ns` with the namespace's own
 * /var/run/wireguard (see the top of this file). The shell execs argv: its pid is argv's.
 */
export function inNamespace(ns: string, argv: string[]): string[] {
  if (!namespaces.has(ns)) throw new Error(`${ns} is not a namespace of this test run`);
  const script = 'mount --bind "$0" "$1" && shift && exec "$@"';
  return ["ip", "netns", "exec", ns, "sh", "-c", script, socketDir(ns), realpathSync(WG_SOCKET_DIR), ...argv];
}

/** Runs argv inside network namespace `ns` (with its own /var/run/wireguard). */
export function nsExec(ns: string, argv: string[], opts: Parameters<typeof cmd>[1] = {}): CmdResult {
  return cmd(inNamespace(ns, argv), opts);
}

/** Runs argv inside `ns` without blocking this process (which may have to answer it meanwhile). */
export function nsExecAsync(ns: string, argv: string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<CmdResult> {
  return new Promise((res) => {
    const full = inNamespace(ns, argv);
    const p = spawn(full[0], full.slice(1), { env: opts.env ?? process.env });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.stdin.on("error", () => undefined);
    p.on("close", (status) => {
      clearTimeout(timer);
      res({ ok: status === 0, status, stdout, stderr });
    });
    p.stdin.end(opts.input ?? "");
  });
}

/** `ip -n ns …`, split on spaces (for arguments without spaces). */
export function ipn(ns: string, args: string, opts: Parameters<typeof cmd>[1] = {}): CmdResult {
  return cmd(["ip", "-n", ns, ...args.split(/\s+/).filter(Boolean)], opts);
}

/**
 * `wg <verb> <dev> <file>` (setconf, syncconf, addconf) inside `ns` with `text` as the
 * file: a private temporary file, because spawnSync's stdin is a socket that
 * /dev/stdin cannot be opened on.
 */
export function wgConf(ns: string, verb: "setconf" | "syncconf" | "addconf", dev: string, text: string): CmdResult {
  const dir = tempDir("wgmgr-e2e-conf-");
  try {
    const file = join(dir, `${dev}.conf`);
    writeFileSync(file, text, { mode: 0o600 });
    return nsExec(ns, ["wg", verb, dev, file]);
  } finally {
    removeTempDir(dir);
  }
}

/** Lower-case letters and digits, starting with a letter: usable in ifnames and UCI names. */
export function randomTag(len: number): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(len);
  let s = alphabet[bytes[0] % 26];
  for (let i = 1; i < len; i++) s += alphabet[bytes[i] % alphabet.length];
  return s;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` until it returns a truthy value or `timeoutMs` passes; returns the last value. */
export async function poll<T>(probe: () => T, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v || Date.now() >= deadline) return v;
    await sleep(intervalMs);
  }
}

// ---- wireguard-go -----------------------------------------------------------

const started = new Set<ChildProcess>();

/**
 * Starts `wireguard-go -f <dev>` inside `ns` (ip netns exec and the shell exec, so the
 * pid is wireguard-go's) and waits for its control socket in the namespace's own
 * /var/run/wireguard. The userspace equivalent of `ip link add <dev> type wireguard`.
 */
export async function startWireguardGo(ns: string, dev: string): Promise<ChildProcess> {
  const sock = join(socketDir(ns), `${dev}.sock`);
  if (existsSync(sock)) throw new Error(`${sock} already exists: ${dev} already runs in ${ns}`);
  const argv = inNamespace(ns, ["wireguard-go", "-f", dev]);
  const p = spawn(argv[0], argv.slice(1), {
    stdio: ["ignore", "pipe", "pipe"],
    // WG_PROCESS_FOREGROUND=1 is what -f sets; set here too it also silences the
    // "kernel has first class support" banner.
    env: { ...process.env, LOG_LEVEL: "error", WG_PROCESS_FOREGROUND: "1" },
  });
  started.add(p);
  let log = "";
  p.stdout!.on("data", (d) => (log += d));
  p.stderr!.on("data", (d) => (log += d));
  p.on("exit", () => started.delete(p));
  const up = await poll(() => existsSync(sock) || p.exitCode !== null, 5000, 20);
  if (!up || p.exitCode !== null || !existsSync(sock)) {
    stopProcess(p);
    throw new Error(`wireguard-go ${dev} in ${ns} did not start (exit ${p.exitCode}): ${log}`);
  }
  return p;
}

/** Stops a process we started and waits until it is gone (wireguard-go then removes its device). */
export async function stopAndWait(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise<void>((res) => p.once("exit", () => res()));
  stopProcess(p);
  await Promise.race([gone, sleep(5000)]);
}

/** Stops one process we started, by its pid. */
export function stopProcess(p: ChildProcess): void {
  if (p.exitCode === null && p.signalCode === null && p.pid !== undefined) {
    try {
      process.kill(p.pid, "SIGTERM");
    } catch {
      /* already gone */
    }
  }
  started.delete(p);
}

// ---- namespaces -------------------------------------------------------------

const namespaces = new Set<string>();

export function addNamespace(name: string): void {
  installExitCleanup();
  if (area === undefined) {
    area = tempDir("wgmgr-e2e-");
    // The mount point must exist on the host (wireguard-go would create it the same way).
    mkdirSync(WG_SOCKET_DIR, { recursive: true, mode: 0o755 });
  }
  cmd(["ip", "netns", "add", name]);
  namespaces.add(name);
  mkdirSync(socketDir(name), { recursive: true, mode: 0o700 });
  ipn(name, "link set lo up");
}

/** Deletes the namespaces and stops the wireguard-go processes this process created. Idempotent. */
export function cleanupAll(): void {
  for (const p of [...started]) stopProcess(p);
  for (const ns of [...namespaces]) {
    cmd(["ip", "netns", "del", ns], { allowFail: true });
    namespaces.delete(ns);
  }
  if (area !== undefined) removeTempDir(area);
  area = undefined;
}

let exitCleanupInstalled = false;

/**
 * Also clean up when the worker exits without running afterAll: a crash, or a signal
 * (whose default action would skip the "exit" event); the signal is then re-raised.
 */
function installExitCleanup(): void {
  if (exitCleanupInstalled) return;
  exitCleanupInstalled = true;
  process.once("exit", cleanupAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      cleanupAll();
      process.kill(process.pid, sig);
    });
  }
}

// ---- can this machine run the tests? ---------------------------------------

function onPath(bin: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${bin}`], { encoding: "utf8" }).status === 0;
}

/** Why the network tests cannot run here, or undefined when they can. */
export function missingCapability(): string | undefined {
  if (process.platform !== "linux") return `not Linux (${process.platform})`;
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "not running as root (network namespaces need it)";
  for (const bin of ["ip", "wireguard-go", "wg", "ping", "lua5.1"]) {
    if (!onPath(bin)) return `'${bin}' is not installed (apt-get install -y wireguard-go wireguard-tools iproute2 iputils-ping lua5.1)`;
  }
  try {
    if (!statSync("/dev/net/tun").isCharacterDevice()) return "/dev/net/tun is not a character device";
  } catch {
    return "/dev/net/tun is missing (wireguard-go needs it)";
  }
  const probe = `wgmgr-e2e-probe-${process.pid}-${randomTag(4)}`;
  const add = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8" });
  if (add.status !== 0) return `'ip netns add' does not work here: ${add.stderr.trim()}`;
  spawnSync("ip", ["netns", "del", probe]);
  return undefined;
}

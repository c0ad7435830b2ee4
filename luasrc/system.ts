// Everything that touches the router outside UCI: paths, running commands, the lock.
// Each run() is one fork, so callers batch work into as few commands as they can.

import { fail } from "./errors";
import { T } from "./common/text";

/** Config directory; unset on the router (libuci's default /etc/config). Tests and `make dev` point it elsewhere. */
export const CONFDIR = os.getenv("WGMGR_CONFDIR");
/** Runtime directory holding rpcd's session deltas (rpcd/uci-<sid>) and our lock. */
export const RUNDIR = os.getenv("WGMGR_RUNDIR") ?? "/var/run";
/** procd's init scripts; tests point it at recording stand-ins. */
export const INITDIR = os.getenv("WGMGR_INITDIR") ?? "/etc/init.d";
/** The kernel's loaded modules (kmod-wireguard shows as wireguard). */
export const MODULES = os.getenv("WGMGR_MODULES") ?? "/sys/module";
/** busybox crond's crontabs (the watchdog's schedule lives in root's). */
export const CRONTABS = os.getenv("WGMGR_CRONTABS") ?? "/etc/crontabs";

export function shellQuote(s: string): string {
  return "'" + string.gsub(s, "'", "'\\''")[0] + "'";
}

export interface RunResult {
  ok: boolean;
  status: number; // exit status; 127 when the command does not exist
  output: string; // stdout (and stderr when merged) without the trailing newline
}

const STATUS_MARK = "\nwgmgr-exit:";

function parseStatus(raw: string): RunResult {
  const [at] = string.find(raw, STATUS_MARK, 1, true);
  if (at === undefined) return { ok: false, status: -1, output: raw };
  const status = tonumber(string.match(string.sub(raw, at + STATUS_MARK.length), "%d+")[0]) ?? -1;
  let output = string.sub(raw, 1, at - 1);
  if (string.sub(output, -1) === "\n") output = string.sub(output, 1, -2);
  return { ok: status === 0, status, output };
}

/** Runs a shell command line and captures its stdout (stderr too with `mergeStderr`). */
export function run(cmd: string, mergeStderr = false): RunResult {
  const [p] = io.popen(`${cmd} ${mergeStderr ? "2>&1" : "2>/dev/null"}; printf '${STATUS_MARK}%d\\n' $?`, "r");
  if (p === undefined) return { ok: false, status: -1, output: "" };
  const raw = p.read("*a") as string;
  p.close();
  return parseStatus(raw);
}

/**
 * Runs a command with `input` on its stdin (keys never appear on a command line, where
 * other processes could read them) and returns its combined output and status.
 */
export function runWithInput(cmd: string, input: string): RunResult {
  const outFile = os.tmpname();
  const [p] = io.popen(`(${cmd}) >${shellQuote(outFile)} 2>&1; printf '${STATUS_MARK}%d\\n' $? >>${shellQuote(outFile)}`, "w");
  if (p === undefined) return { ok: false, status: -1, output: "" };
  p.write(input);
  p.close();
  const [f] = io.open(outFile, "r");
  const raw = f === undefined ? "" : (f.read("*a") as string);
  f?.close();
  os.remove(outFile);
  return parseStatus(raw);
}

export function readFile(path: string): string | undefined {
  const [f] = io.open(path, "r");
  if (f === undefined) return undefined;
  const s = f.read("*a") as string;
  f.close();
  return s;
}

/** Waits a moment (a fork): busybox's sleep may take whole seconds only, Debian's takes fractions. */
export function pause(seconds: number): void {
  os.execute(`sleep ${seconds} 2>/dev/null || sleep 1`);
}

/** Replaces a file's content (write and rename, so a reader never sees half of it). */
export function writeFile(path: string, text: string): boolean {
  const tmp = `${path}.wgmgr-new`;
  const [f] = io.open(tmp, "w");
  if (f === undefined) return false;
  f.write(text);
  f.close();
  return os.rename(tmp, path)[0] === true;
}

export function fileExists(path: string): boolean {
  const [f] = io.open(path, "r");
  if (f === undefined) return false;
  f.close();
  return true;
}

// ---- the lock ---------------------------------------------------------------
// rpcd runs one process per call, so two calls can overlap. Mutations hold a lock
// file created with fopen's "x" flag (O_EXCL on glibc and musl, passed through by
// Lua 5.1's io.open): no fork, and the same on OpenWrt and Debian. The file holds the
// owner's pid so a lock left by a killed process (rpcd SIGKILLs on timeout) is broken.

const LOCK_PATH = `${RUNDIR}/wgmgr.lock`;
const LOCK_WAIT_SECONDS = 15;

function ownPid(): string {
  // /proc/self is this Lua process: its stat line starts with the pid.
  const stat = readFile("/proc/self/stat") ?? "";
  return string.match(stat, "^%d+")[0] ?? "0";
}

const lockOwner = (path: string): string | undefined => string.match(readFile(path) ?? "", "^%d+")[0];

/**
 * Removes the lock if its owner is dead. The lock is first renamed away and its owner
 * checked again there, so a waiter that raced us and already took a fresh lock keeps it.
 */
function breakIfStale(me: string): boolean {
  const owner = lockOwner(LOCK_PATH);
  // An empty file is a lock being written right now, not a stale one.
  if (owner === undefined || fileExists(`/proc/${owner}/stat`)) return false;
  const aside = `${LOCK_PATH}.stale.${me}`;
  if (!os.rename(LOCK_PATH, aside)[0]) return false;
  if (lockOwner(aside) === owner) return os.remove(aside)[0] === true;
  os.rename(aside, LOCK_PATH);
  return false;
}

const EEXIST = 17;

/** Takes the lock: true when held, false after waiting LOCK_WAIT_SECONDS; a lock file that cannot exist is an error. */
export function acquireLock(): boolean {
  const pid = ownPid();
  const deadline = os.time() + LOCK_WAIT_SECONDS;
  for (;;) {
    // (No cast on a multi-return call: TSTL would then wrap it in unpack() and break it.)
    const [f, err, errno] = io.open(LOCK_PATH, "wx");
    if (f !== undefined) {
      f.write(pid + "\n");
      f.close();
      return true;
    }
    if (errno !== EEXIST) fail("LOCK_FAILED", T("Cannot create the lock file: {detail}.", { detail: err ?? LOCK_PATH }));
    if (breakIfStale(pid)) continue;
    if (os.time() > deadline) return false;
    pause(0.05);
  }
}

export function releaseLock(): void {
  os.remove(LOCK_PATH);
}

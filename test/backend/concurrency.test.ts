// rpcd runs one process per call: parallel mutations must neither lose an update nor
// hand out one address twice.
import { afterEach, expect, test } from "vitest";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { TestRouter } from "../lib/router";

let r: TestRouter | undefined;
afterEach(() => r?.cleanup());

test("20 parallel add_peer calls give 20 peers with 20 distinct addresses", async () => {
  r = new TestRouter();
  expect(r.call("setup", { address: "192.168.100.1/24" }).error).toBeUndefined();
  const names = Array.from({ length: 20 }, (_, i) => `device-${i}`);
  const replies = await Promise.all(names.map((name) => r!.callAsync("add_peer", { name })));
  for (const reply of replies) expect(reply.error, JSON.stringify(reply)).toBeUndefined();
  const peers = r.call("get", {}).interfaces[0].peers;
  expect(peers.map((p: any) => p.name).sort()).toEqual([...names].sort());
  const addresses = new Set(peers.map((p: any) => p.addresses[0]));
  expect(addresses.size).toBe(20);
  expect(new Set(peers.map((p: any) => p.id)).size).toBe(20);
});

test("a lock left behind by a killed process is broken; a live holder makes callers wait", async () => {
  r = new TestRouter();
  expect(r.call("setup", { address: "192.168.100.1/24" }).error).toBeUndefined();
  // A pid that cannot be alive (above pid_max).
  writeFileSync(join(r.rundir, "wgmgr.lock"), "4194305\n");
  expect(r.call("add_peer", { name: "after-crash" }).error).toBeUndefined();
  // Our own (live) pid holds the lock for 1.5 s: the call waits, then succeeds.
  writeFileSync(join(r.rundir, "wgmgr.lock"), `${process.pid}\n`);
  const started = Date.now();
  const pending = r.callAsync("add_peer", { name: "waited" });
  setTimeout(() => writeFileSync(join(r!.rundir, "wgmgr.lock"), "4194305\n"), 1500);
  const reply = await pending;
  expect(reply.error).toBeUndefined();
  expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
});

test("a lock file that cannot be created is a clear error at once, not a 15 s wait", () => {
  r = new TestRouter();
  expect(r.call("setup", { address: "192.168.100.1/24" }).error).toBeUndefined();
  r.env.WGMGR_RUNDIR = `${r.rundir}/missing`;
  const started = Date.now();
  const reply = r.call("add_peer", { name: "x" });
  expect(reply.error).toBe("LOCK_FAILED");
  expect(reply.message).toContain("lock file");
  expect(Date.now() - started).toBeLessThan(5000);
});

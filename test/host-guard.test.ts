// The host guard (test/lib/host-guard.ts) is armed wherever this machine can run WireGuard,
// and its wg0 is where a test that leaked out of its simulation would land: the host's
// own `wg` reaches it. Its check runs after the last test of the whole suite.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { expect, inject, test } from "vitest";

const capable =
  process.getuid?.() === 0 &&
  existsSync("/dev/net/tun") &&
  ["wg", "wireguard-go", "ip"].every((b) => spawnSync("sh", ["-c", `command -v ${b}`]).status === 0);

test("the host guard watches a wg0 that the host's own wg reaches", () => {
  const state = inject("hostGuard");
  if (!capable) {
    console.warn(`!! host guard: ${state}`);
    expect(state).toMatch(/^not armed/);
    return;
  }
  expect(state).toMatch(/^armed: /);
  const r = spawnSync("wg", ["show", "wg0", "listen-port"], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
});

// Temporary directories for tests, `make dev` and `make bench`: each is removed by its
// owner's cleanup, and in any case when the process exits (a failed constructor, a test
// that throws before its afterAll, Ctrl-C), so no run leaves /tmp/wgmgr-* behind.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const live = new Set();
let hooked = false;

function removeAll() {
  for (const d of live) rmSync(d, { recursive: true, force: true });
  live.clear();
}

function hookExit() {
  if (hooked) return;
  hooked = true;
  process.once("exit", removeAll);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(sig, () => {
      removeAll();
      process.kill(process.pid, sig);
    });
  }
}

/** A new directory /tmp/<prefix>XXXXXX, removed at exit unless removed earlier. */
export function tempDir(prefix) {
  hookExit();
  const d = mkdtempSync(join(tmpdir(), prefix));
  live.add(d);
  return d;
}

/** Removes a directory made by tempDir (or any path) now. */
export function removeTempDir(d) {
  rmSync(d, { recursive: true, force: true });
  live.delete(d);
}

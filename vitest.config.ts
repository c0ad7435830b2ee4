import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Proves that no test touches the host's WireGuard (test/lib/host-guard.ts).
    globalSetup: ["test/lib/host-guard.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    maxWorkers: 2,
    reporters: ["default", "./test/lib/summary-reporter.ts"],
  },
});

// Proves that the libuci stand-in (test/lua/uci.lua) behaves like the real libuci Lua
// binding: every case recorded in test/fixtures/uci/libuci-lua.json is replayed
// under lua5.1 and must give the same return values, config files and delta files.
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { tempDir } from "./lib/temp.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const luaDir = join(here, "lua");
const fixturesDir = join(here, "fixtures");
const fixturePath = join(fixturesDir, "uci", "libuci-lua.json");

interface FixtureCase {
  name: string;
  files: Record<string, string>;
  ops: unknown[][];
  results: unknown[];
  files_after: Record<string, string>;
  savedir_after: Record<string, string>;
}

const { cases } = JSON.parse(readFileSync(fixturePath, "utf8")) as { cases: FixtureCase[] };

// Every cursor also reads deltas from the default savedir (/tmp/.uci in libuci);
// point it at an empty directory so the host's /tmp/.uci cannot leak in.
const defaultSavedir = tempDir("uci-standin-");
afterAll(() => rmSync(defaultSavedir, { recursive: true, force: true }));

function replay(name: string) {
  const out = execFileSync("lua5.1", [join(luaDir, "replay-uci-fixture.lua"), fixturePath, name], {
    encoding: "utf8",
    env: { ...process.env, LUA_PATH: `${luaDir}/?.lua;;`, UCI_SAVEDIR: defaultSavedir },
  });
  return JSON.parse(out) as Pick<FixtureCase, "results" | "files_after" | "savedir_after">;
}

describe("libuci stand-in matches the recorded libuci Lua binding", () => {
  test("fixture has cases", () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  for (const c of cases) {
    test(c.name, () => {
      const got = replay(c.name);
      expect(got.results).toStrictEqual(c.results);
      expect(got.files_after).toStrictEqual(c.files_after);
      expect(got.savedir_after).toStrictEqual(c.savedir_after);
    });
  }
});

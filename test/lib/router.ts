// A simulated router for tests: a temporary config directory seeded from the real
// OpenWrt defaults (test/fixtures/openwrt-defaults), and the compiled plugin run
// exactly as rpcd runs it (`wgmgr call <method>`, the JSON message on stdin) under
// Debian's real Lua 5.1, with the libuci stand-in from test/lua on LUA_PATH.
//
// The plugin's `wg`, `ip`, `ubus`, `logger` and /etc/init.d are those of the simulated
// router (test/sim): every call is recorded (commands()), keys come from the real `wg`,
// and nothing reaches the host's network. By default nothing runs on this router; with
// `live`, netifd brings WireGuard interfaces up in the simulation (test/sim/sim.mjs).
import { spawn, spawnSync } from "node:child_process";
import { onTestFinished } from "vitest";
import { readFileSync, writeFileSync, existsSync, copyFileSync, readdirSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { removeTempDir, tempDir } from "./temp.mjs";
import { simEnv } from "../sim/sim.mjs";
import { parsePo } from "../../scripts/i18n/po.mjs";
import { fill } from "../../luasrc/common/text";

export const REPO = resolve(import.meta.dirname, "../..");
export const PLUGIN = join(REPO, "build/root/usr/libexec/rpcd/wgmgr");
export const FIXTURES = join(REPO, "test/fixtures");
export const DEFAULTS = join(FIXTURES, "openwrt-defaults");
export const LUA = "lua5.1";

export type Reply = Record<string, any>;

export interface UciSection {
  name: string;
  type: string;
  anonymous: boolean;
  options: Record<string, string | string[]>;
}

export interface RouterOptions {
  /** Extra or replacement config files (name → text) on top of the OpenWrt defaults. */
  files?: Record<string, string>;
  /** Interfaces run in the simulation (netifd, `wg show`, `wg syncconf`); by default nothing runs. */
  live?: boolean;
  /** The WAN's IPv4 address that `ubus call network.interface.wan status` reports (with `live`). */
  wan?: string;
  /** Names the router's nslookup resolves ({ name: address }). */
  dns?: Record<string, string>;
  /** Extra environment; merged over the defaults. */
  env?: Record<string, string>;
}

export class TestRouter {
  readonly dir: string;
  readonly confdir: string;
  readonly rundir: string;
  env: Record<string, string>;

  constructor(opts: RouterOptions = {}) {
    this.dir = tempDir("wgmgr-router-");
    this.confdir = join(this.dir, "config");
    this.rundir = join(this.dir, "run");
    mkdirSync(this.confdir);
    // rpcd creates /var/run/rpcd at start; libuci then makes each session's uci-<sid> in it.
    mkdirSync(join(this.rundir, "rpcd"), { recursive: true });
    for (const f of readdirSync(DEFAULTS)) copyFileSync(join(DEFAULTS, f), join(this.confdir, f));
    for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(this.confdir, name), text);
    this.env = {
      ...simEnv(this.dir, { live: opts.live, wan: opts.wan, dns: opts.dns }),
      LUA_PATH: join(REPO, "test/lua/?.lua") + ";;",
      WGMGR_CONFDIR: this.confdir,
      WGMGR_RUNDIR: this.rundir,
      // The stand-in's default savedir would be /tmp/.uci, shared by every test.
      UCI_SAVEDIR: join(this.dir, "uci-savedir"),
      ...opts.env,
    };
  }

  /** Runs `wgmgr call <method>` with `input` (an object, or raw text or bytes) on stdin. */
  call(method: string, input: unknown = {}): Reply {
    const r = this.raw(["call", method], typeof input === "string" || Buffer.isBuffer(input) ? input : JSON.stringify(input));
    return checkTranslatable(JSON.parse(r.stdout), method);
  }

  raw(argv: string[], stdin: string | Buffer = ""): { stdout: string; stderr: string; status: number | null } {
    const r = spawnSync(LUA, [PLUGIN, ...argv], { input: stdin, env: this.env, encoding: "utf8", maxBuffer: 64 << 20 });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  }

  callAsync(method: string, input: unknown = {}): Promise<Reply> {
    return new Promise((res, rej) => {
      const p = spawn(LUA, [PLUGIN, "call", method], { env: this.env });
      let out = "";
      p.stdout.on("data", (d) => (out += d));
      p.on("error", rej);
      p.on("close", () => {
        try {
          res(checkTranslatable(JSON.parse(out), method));
        } catch (e) {
          rej(new Error(`bad output from ${method}: ${out}`));
        }
      });
      p.stdin.end(JSON.stringify(input));
    });
  }

  /** The commands the plugin ran so far ("wg syncconf wg0 /dev/stdin", "ubus call network reload", ...). */
  commands(): string[] {
    const p = this.env.WGMGR_SIM_LOG;
    return existsSync(p) ? readFileSync(p, "utf8").split("\n").filter(Boolean) : [];
  }

  list(): Reply {
    return JSON.parse(this.raw(["list"]).stdout);
  }

  file(name: string): string {
    const p = join(this.confdir, name);
    return existsSync(p) ? readFileSync(p, "utf8") : "";
  }

  /** Every config file's text, to prove a call changed nothing. */
  snapshot(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of readdirSync(this.confdir)) out[f] = readFileSync(join(this.confdir, f), "utf8");
    return out;
  }

  /**
   * The sections of a config as libuci (the stand-in) reads them, in order; with a
   * session id, as that LuCI session sees them (its staged delta applied).
   */
  sections(config: string, session?: string): UciSection[] {
    const savedir = session ? join(this.rundir, "rpcd", `uci-${session}`) : this.env.UCI_SAVEDIR;
    const lua = `
      local uci, json = require "uci", require "json"
      local c = uci.cursor(${JSON.stringify(this.confdir)}, ${JSON.stringify(savedir)})
      local out = {}
      c:foreach(${JSON.stringify(config)}, nil, function(s)
        local o = {}
        for k, v in pairs(s) do if k:sub(1, 1) ~= "." then o[k] = v end end
        out[#out + 1] = { name = s[".name"], type = s[".type"], anonymous = s[".anonymous"], options = o }
      end)
      io.write(json.encode(out))`;
    const r = spawnSync(LUA, ["-e", lua], { env: this.env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(r.stderr);
    const out = JSON.parse(r.stdout || "[]");
    return Array.isArray(out) ? out.map((s: UciSection) => ({ ...s, options: Array.isArray(s.options) ? {} : s.options })) : [];
  }

  section(config: string, name: string, session?: string): UciSection | undefined {
    return this.sections(config, session).find((s) => s.name === name);
  }

  cleanup(): void {
    removeTempDir(this.dir);
  }
}

/** A simulated router for the running test only: it is removed when the test ends. */
export function routerForTest(opts: RouterOptions = {}): TestRouter {
  const r = new TestRouter(opts);
  onTestFinished(() => r.cleanup());
  return r;
}

// ---- every message of the plugin can be translated ------------------------------------------

let templates: Set<string> | undefined;

/**
 * Checked on every reply of every test: each message the plugin sends (an error, a
 * warning, a finding, a reason: any object with a "message") can be shown in the user's
 * language. Its template (msgid, or the message itself when it has no parameters) is in
 * po/templates/wgmgr.pot, so the views find it in the catalog, and the template filled
 * with its params is the English message, so they say the same thing.
 */
export function checkTranslatable(reply: Reply, method: string): Reply {
  templates ??= new Set(parsePo(readFileSync(join(REPO, "po/templates/wgmgr.pot"), "utf8")).map((e: { id: string }) => e.id));
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (v === null || typeof v !== "object") return;
    const o = v as Record<string, unknown>;
    if (typeof o.message === "string") {
      const template = typeof o.msgid === "string" ? o.msgid : o.message;
      if (!templates!.has(template)) throw new Error(`${method}: a message that is not in the catalog (missing T() or make pot?): ${JSON.stringify(o)}`);
      if (fill(template, o.params as Record<string, string>) !== o.message) {
        throw new Error(`${method}: the template and params do not give the message: ${JSON.stringify(o)}`);
      }
    }
    for (const k of Object.keys(o)) visit(o[k]);
  };
  visit(reply);
  return reply;
}

#!/usr/bin/env node
// `make dev`: the wgmgr LuCI pages in a browser, without a router.
//
//   node test/dev/server.mjs [--port 8080] [--host 127.0.0.1] [--no-uqr] [--wan 100.72.3.4]
//                            [--lang zh_cn]
//
// What it serves, and what stands in for what on a router:
// - /cgi-bin/luci/...   LuCI's dispatcher: a login (root = full access, viewer =
//                       read-only), the menu from root/usr/share/luci/menu.d, the page
//                       of a `view` node with L.env.nodespec (read-only when the
//                       session's ACL grants the node's groups read but not write);
// - /luci-static/resources/...  the stand-in LuCI runtime (test/dev/luci) and the built
//                       pages (build/root/www); --no-uqr leaves out uqr.js as on 23.05;
//                       --wan sets the simulated WAN address (100.64.x.x plays CGNAT);
// - /cgi-bin/luci/admin/translations/<lang>: LuCI's translation table, window.TR, from
//                       the *.<lang>.lmo catalogs the build wrote (build/i18n); --lang
//                       picks the language as /etc/config/luci's main.lang does
//                       (zh_cn: Simplified Chinese; English without);
// - /ubus               uhttpd-mod-ubus: JSON-RPC, the session's ACL checked per call
//                       (rpcd acl.d files; error -32002 "Access denied"), the session
//                       id appended to the arguments; `wgmgr` runs the compiled plugin
//                       exactly as rpcd does (`wgmgr call <method>`, JSON on stdin);
//                       `uci changes` reads the session's staged deltas;
// - /cgi-bin/luci/admin/uci/{apply_rollback,apply_unchecked,confirm,revert}: LuCI's
//                       apply: commit the session's deltas (the stand-in libuci,
//                       test/lua/uci.lua), reload (see sim.mjs), roll back unless
//                       confirmed within apply_rollback seconds;
// - /dev/handshake, /dev/live: dev-only helpers (not LuCI) to let a simulated device
//                       connect and to look at the simulated interfaces.
// The router's state lives in a temporary directory seeded from
// test/fixtures/openwrt-defaults, deleted on exit.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { hex, lookupKey, readLmo } from "../../scripts/i18n/lmo.mjs";
import { handshake, listLive, networkReload, simEnv } from "../sim/sim.mjs";
import { removeTempDir, tempDir } from "../lib/temp.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, "../..");
const PLUGIN = join(REPO, "build/root/usr/libexec/rpcd/wgmgr");
const RUNTIME = join(HERE, "luci");
const DEFAULTS = join(REPO, "test/fixtures/openwrt-defaults");
const MENU_DIR = join(REPO, "root/usr/share/luci/menu.d");
const ACL_DIR = join(REPO, "root/usr/share/rpcd/acl.d");
const LUA = "lua5.1";
const I18N = join(REPO, "build/i18n");

// luci-base's own grants that the stand-in runtime relies on (session check, change list).
const LUCI_BASE = { "luci-base": { read: { ubus: { session: ["access"], uci: ["changes"] } } } };
const USERS = { root: ["read", "write"], viewer: ["read"] };

const TYPES = { ".js": "application/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml", ".html": "text/html" };

function readJsonDir(dir) {
  const out = {};
  for (const f of existsSync(dir) ? readdirSync(dir).sort() : []) if (f.endsWith(".json")) Object.assign(out, JSON.parse(readFileSync(join(dir, f), "utf8")));
  return out;
}

function glob(pattern, s) {
  const re = new RegExp("^" + pattern.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
  return re.test(s);
}

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** rpcd: the (scope, object, function) grants of a login, from the ACL groups it may use. */
function grantsFor(user, groups) {
  const grants = [];
  const access = {};
  for (const [name, g] of Object.entries(groups)) {
    for (const perm of USERS[user]) {
      if (!g[perm]) continue;
      (access[name] ??= []).push(perm);
      for (const [scope, objs] of Object.entries(g[perm])) {
        if (Array.isArray(objs)) for (const o of objs) grants.push([scope, o, perm]);
        else for (const [o, fns] of Object.entries(objs)) for (const fn of fns) grants.push([scope, o, fn]);
      }
    }
  }
  return { grants, access };
}

function dropNulls(v) {
  if (Array.isArray(v)) return v.filter((x) => x !== null).map(dropNulls);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)]));
  return v;
}

/** libuci's quoting in delta files: 'it'\''s' → it's. */
function unquote(v) {
  if (v === undefined) return undefined;
  let out = "";
  for (let i = 0; i < v.length; ) {
    if (v[i] === "'") {
      const j = v.indexOf("'", i + 1);
      out += v.slice(i + 1, j < 0 ? v.length : j);
      i = j < 0 ? v.length : j + 1;
    } else if (v[i] === "\\") {
      out += v[i + 1] ?? "";
      i += 2;
    } else out += v[i++];
  }
  return out;
}

const DELTA_CMDS = { "+": "add", "-": "remove", "": "set", "@": "rename", "^": "order", "|": "list-add", "~": "list-del" };

/** rpcd's `uci changes` for one delta file: [["set", section, option, value], ...]. */
function parseDelta(text) {
  const out = [];
  for (const line of text.split("\n")) {
    const m = /^([-+@^|~]?)[^.=]+\.([^.=]+)(?:\.([^=]+))?(?:=(.*))?$/.exec(line);
    if (!m) continue;
    const [, prefix, section, option, raw] = m;
    const value = unquote(raw);
    const c = [DELTA_CMDS[prefix], section];
    if (option !== undefined) c.push(option);
    if (value !== undefined) c.push(prefix === "^" ? Number(value) : value);
    out.push(c);
  }
  return out;
}

/**
 * LuCI's catalog of a language (lmo_load_catalog): the entries of every *.<lang>.lmo in
 * `dir`, read afresh (LuCI reads them per request, so a rebuilt catalog shows on reload).
 */
function loadCatalog(dir, lang) {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(`.${lang}.lmo`)).sort() : [];
  return files.flatMap((f) => readLmo(readFileSync(join(dir, f))));
}

/** What LuCI's action_translations writes: every catalog entry as "hash": "string". */
const translationsScript = (catalog) => `window.TR={${catalog.map((e) => `"${hex(e.key)}":${JSON.stringify(e.value)},`).join("")}};`;

export async function startDevServer(opts = {}) {
  if (!existsSync(PLUGIN)) throw new Error(`${PLUGIN} is missing: run \`make plugin\` first`);
  const dir = opts.dir ?? tempDir("wgmgr-dev-");
  const confdir = join(dir, "config");
  const rundir = join(dir, "run");
  const live = join(dir, "live");
  for (const d of [confdir, join(rundir, "rpcd"), live, join(dir, "uci-default")]) mkdirSync(d, { recursive: true });
  if (!opts.dir) {
    for (const f of readdirSync(DEFAULTS)) copyFileSync(join(DEFAULTS, f), join(confdir, f));
    for (const [name, text] of Object.entries(opts.files ?? {})) writeFileSync(join(confdir, name), text);
  }
  const log = opts.log ?? (() => undefined);
  const www = opts.www ?? join(REPO, "build/root/www");
  const i18n = opts.i18n ?? I18N;
  // /etc/config/luci's "zh_cn" is LuCI's language "zh-cn" (dispatcher.uc)
  const lang = (opts.lang ?? "en").replace(/_/g, "-");
  const env = {
    ...simEnv(dir, { live: true, wan: opts.wan }),
    LUA_PATH: join(REPO, "test/lua/?.lua") + ";;",
    WGMGR_CONFDIR: confdir,
    WGMGR_RUNDIR: rundir,
    UCI_SAVEDIR: join(dir, "uci-default"),
  };
  const applyEnv = {
    apply_rollback: 90,
    apply_holdoff: 4,
    apply_timeout: 5,
    apply_display: 1.5,
    ...opts.apply,
  };
  const groups = { ...LUCI_BASE, ...readJsonDir(ACL_DIR) };
  const menu = readJsonDir(MENU_DIR);
  const sessions = new Map();
  let pending = null; // the apply awaiting confirmation (rpcd keeps one)
  const calls = []; // every ubus call, for tests: [user, object, method]
  const fakes = new Map(); // wgmgr method -> (args) => ubus result, for tests (see fake())

  const sessionDir = (sid) => join(rundir, "rpcd", `uci-${sid}`);

  function login(user) {
    const sid = randomBytes(16).toString("hex");
    sessions.set(sid, { sid, user, token: randomBytes(16).toString("hex"), ...grantsFor(user, groups) });
    return sid;
  }

  function allowed(s, scope, object, fn) {
    return !!s && s.grants.some(([sc, o, f]) => sc === scope && glob(o, object) && glob(f, fn));
  }

  /** The menu node's ACL verdict: undefined (no access), or { readonly }. */
  function nodeAccess(s, path) {
    const acls = [];
    const parts = path.split("/");
    for (let i = 1; i <= parts.length; i++) acls.push(...(menu[parts.slice(0, i).join("/")]?.depends?.acl ?? []));
    if (!acls.length) return { readonly: false };
    const perms = acls.flatMap((g) => s.access[g] ?? []);
    if (!perms.length) return undefined;
    return { readonly: !perms.includes("write") };
  }

  function children(path, s) {
    return Object.entries(menu)
      .filter(([p]) => p.startsWith(path + "/") && !p.slice(path.length + 1).includes("/"))
      .filter(([p]) => nodeAccess(s, p))
      .sort((a, b) => (a[1].order ?? 1000) - (b[1].order ?? 1000));
  }

  // ---- ubus --------------------------------------------------------------------------------

  // The programs running for a request. close() ends them and starts no more, so that
  // nothing writes into the router's directory once the tests remove it.
  const running = new Set();
  let closing = false;
  function start(args) {
    if (closing) throw new Error("the dev server is closing");
    const p = spawn(LUA, args, { env });
    running.add(p);
    p.on("close", () => running.delete(p));
    return p;
  }

  let signatures;
  function runPlugin(argv, input) {
    return new Promise((res) => {
      const p = start([PLUGIN, ...argv]);
      let out = "";
      let err = "";
      const timer = setTimeout(() => p.kill("SIGKILL"), 60_000);
      p.stdout.on("data", (d) => (out += d));
      p.stderr.on("data", (d) => (err += d));
      // A plugin that exits before reading all of its input (killed, or `list`) closes the
      // pipe: that is its answer, not a reason for the server to die of EPIPE.
      p.stdin.on("error", () => undefined);
      p.on("close", () => {
        clearTimeout(timer);
        if (err) log(`plugin stderr (${argv.join(" ")}): ${err.trim()}`);
        res(out);
      });
      p.stdin.end(input);
    });
  }

  async function callWgmgr(method, args) {
    signatures ??= JSON.parse(await runPlugin(["list"], ""));
    if (!Object.prototype.hasOwnProperty.call(signatures, method)) return [3];
    const out = await runPlugin(["call", method], JSON.stringify(args));
    let reply;
    try {
      reply = JSON.parse(out.split("\n")[0]);
    } catch {
      return [2];
    }
    if (reply === null) return [5];
    if (typeof reply !== "object" || Array.isArray(reply)) return [2];
    return Object.keys(reply).length ? [0, reply] : [0];
  }

  function uciChanges(s) {
    const d = sessionDir(s.sid);
    const changes = {};
    for (const f of existsSync(d) ? readdirSync(d).sort() : []) {
      if (!allowed(s, "uci", f, "read")) continue;
      const list = parseDelta(readFileSync(join(d, f), "utf8"));
      if (list.length) changes[f] = list;
    }
    return changes;
  }

  const QUIET = ["status", "get", "defaults"];

  async function ubusCall(s, object, method, args) {
    calls.push([s.user, object, method]);
    if (object === "wgmgr") {
      const fake = fakes.get(method);
      const r = fake ? fake(args) : await callWgmgr(method, args);
      if (!QUIET.includes(method)) {
        const { ubus_rpc_session, ...shown } = args;
        log(`${s.user}: wgmgr ${method} ${JSON.stringify(shown)} -> ${r[1]?.error ? `${r[1].error} (${r[1].field ?? ""})` : r[0]}`);
      }
      return r;
    }
    if (object === "uci" && method === "changes") return [0, { changes: uciChanges(s) }];
    if (object === "session" && method === "access") {
      return [0, { access: allowed(s, args.scope ?? "ubus", args.object ?? "", args.function ?? "") }];
    }
    return [3];
  }

  const rpcError = (id, code, message) => ({ jsonrpc: "2.0", id: id ?? null, error: { code, message } });

  async function jsonRpc(req) {
    if (!req || typeof req !== "object" || req.jsonrpc !== "2.0" || typeof req.method !== "string") return rpcError(req?.id, -32700, "Parse error");
    if (req.method === "list") {
      signatures ??= JSON.parse(await runPlugin(["list"], ""));
      return { jsonrpc: "2.0", id: req.id, result: Array.isArray(req.params) ? { wgmgr: signatures } : ["session", "uci", "wgmgr"] };
    }
    if (req.method !== "call") return rpcError(req.id, -32601, "Method not found");
    const [sid, object, method, args] = Array.isArray(req.params) ? req.params : [];
    if (typeof sid !== "string" || typeof object !== "string" || typeof method !== "string" || !args || typeof args !== "object") {
      return rpcError(req.id, -32700, "Parse error");
    }
    if (!["wgmgr", "uci", "session"].includes(object)) return rpcError(req.id, -32000, "Object not found");
    const s = sessions.get(sid);
    if (!allowed(s, "ubus", object, method)) return rpcError(req.id, -32002, "Access denied");
    if ("ubus_rpc_session" in args) return rpcError(req.id, -32602, "Invalid parameters");
    const result = await ubusCall(s, object, method, { ...dropNulls(args), ubus_rpc_session: sid });
    return { jsonrpc: "2.0", id: req.id, result };
  }

  // ---- apply ---------------------------------------------------------------------------------

  function commit(sid, configs) {
    const script = `local uci = require "uci"
local c = uci.cursor(${JSON.stringify(confdir)}, ${JSON.stringify(sessionDir(sid))})
for _, cfg in ipairs(arg) do assert(c:commit(cfg)) end`;
    return new Promise((res, rej) => {
      const p = start(["-", ...configs]);
      p.stdin.on("error", () => undefined);
      let err = "";
      p.stderr.on("data", (d) => (err += d));
      p.on("close", (code) => (code === 0 ? res() : rej(new Error(err))));
      p.stdin.end(script);
    });
  }

  /** What a reload after commit does here: netifd's view of /etc/config/network. */
  function reload(configs) {
    if (configs.includes("network")) networkReload(live, confdir);
  }

  function rollback() {
    const p = pending;
    pending = null;
    if (!p) return;
    for (const [cfg, text] of Object.entries(p.files)) {
      if (text === null) rmSync(join(confdir, cfg), { force: true });
      else writeFileSync(join(confdir, cfg), text);
    }
    mkdirSync(sessionDir(p.sid), { recursive: true });
    for (const [cfg, text] of Object.entries(p.deltas)) writeFileSync(join(sessionDir(p.sid), cfg), text);
    reload(Object.keys(p.files));
    log(`apply not confirmed: rolled back ${Object.keys(p.files).join(", ")}`);
  }

  async function apply(s, checked) {
    const d = sessionDir(s.sid);
    const configs = (existsSync(d) ? readdirSync(d) : []).filter((f) => readFileSync(join(d, f), "utf8").trim() !== "");
    if (!configs.length) return 204;
    if (pending) return 409;
    const files = {};
    const deltas = {};
    for (const cfg of configs) {
      files[cfg] = existsSync(join(confdir, cfg)) ? readFileSync(join(confdir, cfg), "utf8") : null;
      deltas[cfg] = readFileSync(join(d, cfg), "utf8");
    }
    await commit(s.sid, configs);
    reload(configs);
    log(`applied ${configs.join(", ")}${checked ? " (rollback armed)" : ""}`);
    if (!checked) return 204;
    const token = randomBytes(8).toString("hex");
    const timeout = Math.max(90, applyEnv.apply_rollback) * 1000;
    pending = { sid: s.sid, token, files, deltas, timer: setTimeout(rollback, opts.rollbackAfterMs ?? timeout) };
    return { token };
  }

  // ---- pages -----------------------------------------------------------------------------------

  function page(s, path, node, access) {
    // the menu's titles, translated on the server as LuCI's templates do (lmo_translate)
    const catalog = new Map(loadCatalog(i18n, lang).map((e) => [e.key, e.value]));
    const _ = (msgid) => catalog.get(lookupKey(msgid)) ?? msgid;
    const sections = path.split("/");
    const parent = sections.slice(0, -1).join("/");
    const tabs = children(parent, s)
      .map(([p, n]) => `<li class="${p === path ? "cbi-tab" : "cbi-tab-disabled"}"><a href="/cgi-bin/luci/${p}">${escapeHtml(_(n.title))}</a></li>`)
      .join("");
    const luciEnv = {
      sessionid: s.sid,
      token: s.token,
      scriptname: "/cgi-bin/luci",
      resource: "/luci-static/resources",
      media: "/luci-static/dev",
      documentroot: "/www",
      ubuspath: "/ubus/",
      requestpath: sections,
      dispatchpath: sections,
      pollinterval: opts.pollinterval ?? 5,
      rpctimeout: 20,
      nodespec: { satisfied: true, readonly: access.readonly, title: node.title, action: node.action, depends: node.depends },
      ...applyEnv,
    };
    const json = JSON.stringify(luciEnv).replace(/</g, "\\u003c");
    return `<!DOCTYPE html>
<html lang="${escapeHtml(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(_(node.title))} - LuCI (wgmgr preview)</title>
<link rel="stylesheet" href="/luci-static/resources/dev.css">
<script src="/cgi-bin/luci/admin/translations/${escapeHtml(lang)}"></script>
<script src="/luci-static/resources/cbi.js"></script>
<script src="/luci-static/resources/luci.js?v=dev"></script>
<script>L = new LuCI(${json});</script>
</head>
<body class="logged-in" data-page="${escapeHtml(sections.join("-"))}">
<header>
<span class="brand">OpenWrt</span>
<span>Services › <a href="/cgi-bin/luci/admin/services/wgmgr">${escapeHtml(_(menu["admin/services/wgmgr"]?.title ?? "wgmgr"))}</a></span>
<span id="indicators"></span>
<span class="user">${escapeHtml(s.user)}${access.readonly ? " (read-only)" : ""} · <a href="/cgi-bin/luci/admin/logout">Log out</a></span>
</header>
<div id="maincontent">
<ul class="cbi-tabmenu">${tabs}</ul>
<div id="view"><div class="spinning">Loading view…</div></div>
<script>L.require('ui').then(function(ui) { ui.instantiateView(${JSON.stringify(node.action.path)}); });</script>
</div>
<p class="dev-note">wgmgr dev preview — a LuCI stand-in on a simulated router (${escapeHtml(confdir)}).</p>
</body>
</html>
`;
  }

  function loginPage(failed) {
    return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Log in - LuCI (wgmgr preview)</title>
<link rel="stylesheet" href="/luci-static/resources/dev.css"></head><body>
<div class="login cbi-section"><h2>Authorization required</h2>
<p>wgmgr dev preview: choose who you are.</p>${failed ? '<div class="alert-message error">Unknown user.</div>' : ""}
<form method="post"><button class="btn cbi-button-apply" name="luci_username" value="root">Log in as root (full access)</button>
<button class="btn" name="luci_username" value="viewer">Log in as viewer (read-only)</button></form></div></body></html>`;
  }

  // ---- HTTP ------------------------------------------------------------------------------------

  const readBody = (req) =>
    new Promise((res) => {
      let b = "";
      req.on("data", (d) => (b += d));
      req.on("end", () => res(b));
    });

  function send(res, status, body, type = "text/html; charset=utf-8", headers = {}) {
    res.writeHead(status, { "Content-Type": type, "Cache-Control": "no-store", ...headers });
    res.end(body);
  }

  function cookieSession(req) {
    const m = /(?:^|;\s*)sysauth_http=([0-9a-f]{32})/.exec(req.headers.cookie ?? "");
    return m ? sessions.get(m[1]) : undefined;
  }

  function serveFile(res, path) {
    const ext = path.slice(path.lastIndexOf("."));
    if (!existsSync(path)) return send(res, 404, "Not found", "text/plain");
    send(res, 200, readFileSync(path), TYPES[ext] ?? "application/octet-stream");
  }

  async function handle(req, res) {
    const url = new URL(req.url, "http://x");
    const path = decodeURIComponent(url.pathname);

    if (path.startsWith("/luci-static/resources/")) {
      const rel = path.slice("/luci-static/resources/".length);
      if (rel.includes("..")) return send(res, 403, "Forbidden", "text/plain");
      if (rel === "uqr.js" && opts.uqr === false) return send(res, 404, "Not found", "text/plain");
      const own = join(RUNTIME, rel);
      return serveFile(res, existsSync(own) ? own : join(www, "luci-static/resources", rel));
    }

    if (path === "/ubus" || path === "/ubus/") {
      if (req.method !== "POST") return send(res, 400, "Bad Request", "text/plain");
      let body;
      try {
        body = JSON.parse(await readBody(req));
      } catch {
        return send(res, 200, JSON.stringify(rpcError(null, -32700, "Parse error")), "application/json");
      }
      const reply = Array.isArray(body) ? await Promise.all(body.map(jsonRpc)) : await jsonRpc(body);
      return send(res, 200, JSON.stringify(reply), "application/json");
    }

    if (path.startsWith("/dev/")) {
      if (path === "/dev/live") return send(res, 200, JSON.stringify(listLive(live)), "application/json");
      if (path === "/dev/handshake" && req.method === "POST") {
        const { interface: iface = "wg0", peer } = JSON.parse((await readBody(req)) || "{}");
        const ok = handshake(live, confdir, iface, peer);
        return send(res, ok ? 200 : 404, JSON.stringify({ ok }), "application/json");
      }
      return send(res, 404, "Not found", "text/plain");
    }

    if (path === "/favicon.ico") return send(res, 204, "");
    if (path === "/" || path === "/index.html") return send(res, 302, "", "text/plain", { Location: "/cgi-bin/luci/" });
    if (!path.startsWith("/cgi-bin/luci")) return send(res, 404, "Not found", "text/plain");

    const route = path.slice("/cgi-bin/luci".length).replace(/^\/+|\/+$/g, "");
    let s = cookieSession(req);

    // luci-base's admin/translations/* needs no login
    const tr = /^admin\/translations\/([\w-]+)$/.exec(route);
    if (tr) return send(res, 200, translationsScript(loadCatalog(i18n, tr[1])), "application/javascript; charset=UTF-8");

    if (route.startsWith("admin/uci/")) {
      const params = new URLSearchParams(req.method === "POST" ? await readBody(req) : "");
      url.searchParams.forEach((v, k) => params.set(k, v));
      if (!s || req.method !== "POST") return send(res, 403, "Forbidden", "text/plain", { "X-LuCI-Login-Required": "yes" });
      const action = route.slice("admin/uci/".length);
      if (action === "confirm") {
        if (!pending) return send(res, 204, "");
        if (params.get("token") !== pending.token) return send(res, 403, "Forbidden", "text/plain");
        clearTimeout(pending.timer);
        pending = null;
        return send(res, 200, "", "text/plain");
      }
      if (params.get("token") !== s.token || params.get("sid") !== s.sid) return send(res, 403, "Forbidden", "text/plain");
      if (!s.grants.some(([scope, , fn]) => scope === "uci" && fn === "write")) return send(res, 403, "Forbidden", "text/plain");
      if (action === "apply_rollback" || action === "apply_unchecked") {
        const r = await apply(s, action === "apply_rollback");
        return typeof r === "number" ? send(res, r, "", "text/plain") : send(res, 200, JSON.stringify(r), "application/json");
      }
      if (action === "revert") {
        rmSync(sessionDir(s.sid), { recursive: true, force: true });
        return send(res, 200, "", "text/plain");
      }
      return send(res, 404, "Not found", "text/plain");
    }

    if (req.method === "POST" && !route.startsWith("admin/uci/")) {
      const user = new URLSearchParams(await readBody(req)).get("luci_username");
      if (!USERS[user]) return send(res, 403, loginPage(true));
      const sid = login(user);
      return send(res, 302, "", "text/plain", {
        Location: url.pathname,
        "Set-Cookie": `sysauth_http=${sid}; path=/cgi-bin/luci/; HttpOnly; SameSite=Strict`,
      });
    }
    if (!s) return send(res, 403, loginPage(false), "text/html; charset=utf-8", { "X-LuCI-Login-Required": "yes" });

    if (route === "admin/logout") {
      sessions.delete(s.sid);
      return send(res, 302, "", "text/plain", { Location: "/cgi-bin/luci/", "Set-Cookie": "sysauth_http=; path=/cgi-bin/luci/; Max-Age=0" });
    }
    let target = route === "" || route === "admin" ? "admin/services/wgmgr" : route;
    let node = menu[target];
    while (node?.action?.type === "firstchild") {
      const first = children(target, s)[0];
      if (!first) break;
      [target, node] = first;
    }
    if (target !== route) return send(res, 302, "", "text/plain", { Location: `/cgi-bin/luci/${target}` });
    if (!node || node.action?.type !== "view") return send(res, 404, "<h2>Page not found</h2>");
    const access = nodeAccess(s, target);
    if (!access) return send(res, 403, "<h2>Access denied</h2><p>This user may not see this page.</p>");
    return send(res, 200, page(s, target, node, access));
  }

  const server = http.createServer((req, res) => {
    // A browser that hangs up mid-request (a page left while polling) is not an error.
    req.on("error", () => undefined);
    res.on("error", () => undefined);
    handle(req, res).catch((e) => {
      log(`error: ${e.stack ?? e}`);
      if (!res.headersSent) send(res, 500, String(e), "text/plain");
    });
  });
  server.on("clientError", (_e, socket) => socket.destroy());
  await new Promise((res, rej) => {
    server.once("error", rej);
    server.listen(opts.port ?? 8080, opts.host ?? "127.0.0.1", res);
  });
  const port = server.address().port;

  return {
    url: `http://${opts.host ?? "127.0.0.1"}:${port}`,
    port,
    lang,
    /** The catalog files of the language. */
    catalogs: () => (existsSync(i18n) ? readdirSync(i18n).filter((f) => f.endsWith(`.${lang}.lmo`)) : []),
    dir,
    confdir,
    rundir,
    calls,
    /**
     * Answers `wgmgr <method>` with `result(args)`, a ubus result such as [0, {...}],
     * [0] or [9], instead of running the plugin (e.g. a sync that fails); without
     * `result`, the plugin answers again.
     */
    fake(method, result) {
      if (result) fakes.set(method, result);
      else fakes.delete(method);
    },
    /** A session as a login would create it (for calls from tests without a browser). */
    login,
    /** The CSRF token LuCI puts into the page of a session (L.env.token). */
    tokenOf: (sid) => sessions.get(sid)?.token,
    /** Calls /ubus as the browser would, with a session id (JSON-RPC reply). */
    async rpc(sid, object, method, args = {}) {
      const r = await fetch(`http://127.0.0.1:${port}/ubus/`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "call", params: [sid, object, method, args] }),
      });
      return r.json();
    },
    live: () => listLive(live),
    liveDir: live,
    handshake: (peer, iface = "wg0") => handshake(live, confdir, iface, peer),
    async close() {
      closing = true;
      if (pending) clearTimeout(pending.timer);
      server.closeAllConnections?.();
      const ended = [...running].map((p) => new Promise((res) => (p.exitCode !== null || p.signalCode !== null ? res() : p.on("close", res))));
      for (const p of running) p.kill("SIGKILL");
      await Promise.all(ended);
      return new Promise((res) => server.close(() => res()));
    },
    cleanup() {
      if (!opts.dir) removeTempDir(dir);
    },
  };
}

// ---- command line -------------------------------------------------------------------------------

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const value = (name, def) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : def;
  };
  const dev = await startDevServer({
    port: Number(value("--port", process.env.PORT ?? 8080)),
    host: value("--host", "127.0.0.1"),
    uqr: !args.includes("--no-uqr"),
    wan: value("--wan", undefined),
    lang: value("--lang", undefined),
    log: (m) => console.log(`[dev] ${m}`),
  }).catch((e) => {
    console.error(`wgmgr dev preview: ${e.message}`);
    process.exit(1);
  });
  console.log(`wgmgr dev preview: ${dev.url}/`);
  if (dev.lang !== "en") console.log(`  language ${dev.lang}: ${dev.catalogs().join(", ") || `no *.${dev.lang}.lmo in ${relative(REPO, I18N)} (run make): English`}`);
  console.log("  log in as root (full access) or viewer (read-only)");
  console.log(`  simulated router: ${dev.confdir} (seeded from test/fixtures/openwrt-defaults)`);
  console.log("  a device \"connects\": curl -d '{\"peer\":\"iPhone\"}' " + `${dev.url}/dev/handshake`);
  const stop = () => {
    dev.close().finally(() => {
      dev.cleanup();
      process.exit(0);
    });
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

// make bench: the cost of status, get and add_peer on configs with 10, 100 and 1000
// peers, measured side by side in one run as ratios to the floor (a bare Lua start that
// loads the same network config once), plus the peak memory of the process (VmHWM).
// The libuci stand-in is pure Lua (the router's is C), so the floor loads through it too.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, copyFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { removeTempDir, tempDir } from "../lib/temp.mjs";
import { simEnv } from "../sim/sim.mjs";

const REPO = resolve(import.meta.dirname, "../..");
// BENCH_PLUGIN: another build of the plugin, to compare (e.g. the last release's).
const PLUGIN = process.env.BENCH_PLUGIN ?? join(REPO, "build/root/usr/libexec/rpcd/wgmgr");
const DEFAULTS = join(REPO, "test/fixtures/openwrt-defaults");
const SIZES = [10, 100, 1000];
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

// A format-valid WireGuard key (32 random bytes in base64); the bench needs no real curve math.
const key = () => randomBytes(32).toString("base64");

function makeRouter(peers) {
  const dir = tempDir("wgmgr-bench-");
  const conf = join(dir, "config");
  mkdirSync(conf);
  mkdirSync(join(dir, "run"));
  for (const f of readdirSync(DEFAULTS)) copyFileSync(join(DEFAULTS, f), join(conf, f));
  let net = readFileSync(join(conf, "network"), "utf8");
  let meta = `config interface 'wg0'\n\toption zone 'lan'\n\toption public_key '${key()}'\n\toption endpoint_host 'vpn.example.net'\n\tlist dns '192.168.1.1'\n`;
  net += `\nconfig interface 'wg0'\n\toption proto 'wireguard'\n\toption private_key '${key()}'\n\toption listen_port '51820'\n\tlist addresses '10.8.0.1/16'\n`;
  for (let i = 0; i < peers; i++) {
    const host = `10.8.${Math.floor((i + 2) / 256)}.${(i + 2) % 256}/32`;
    net += `\nconfig wireguard_wg0 'wg0_p${i}'\n\toption description 'device ${i}'\n\toption public_key '${key()}'\n\toption private_key '${key()}'\n\toption preshared_key '${key()}'\n\tlist allowed_ips '${host}'\n\toption route_allowed_ips '1'\n\toption persistent_keepalive '25'\n`;
    meta += `\nconfig peer 'wg0_p${i}'\n\toption interface 'wg0'\n\toption tunnel '${i % 2 ? "split" : "full"}'\n`;
  }
  writeFileSync(join(conf, "network"), net);
  writeFileSync(join(conf, "wgmgr"), meta);
  const env = {
    // The simulated router with nothing running (test/sim): its commands answer as cheaply
    // as the real tools, and nothing reaches the host's network.
    ...simEnv(dir),
    LUA_PATH: join(REPO, "test/lua/?.lua") + ";;",
    WGMGR_CONFDIR: conf,
    WGMGR_RUNDIR: join(dir, "run"),
    UCI_SAVEDIR: join(dir, "savedir"),
  };
  return { dir, conf, env };
}

// Runs a Lua chunk in a fresh lua5.1 and reports wall time and the process's peak
// resident memory (VmHWM, read by the process itself just before it exits).
const HWM = `local f = io.open("/proc/self/status") local s = f:read("*a") f:close() io.stderr:write(s:match("VmHWM:%s*(%d+)"))`;
function measure(chunk, env, input) {
  const t = process.hrtime.bigint();
  const r = spawnSync("lua5.1", ["-e", `${chunk} ${HWM}`], { env, input, encoding: "utf8" });
  const secs = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0 || r.stdout.includes('"error"')) throw new Error(`bench call failed: ${r.stdout}${r.stderr}`);
  return { secs, rssKb: Number(r.stderr) };
}

/** The plugin exactly as rpcd starts it (argv = call <method>), inside the measuring chunk. */
const plugin = (method) => `arg = { [0] = ${JSON.stringify(PLUGIN)}, "call", "${method}" } dofile(${JSON.stringify(PLUGIN)})`;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows = [];
for (const n of SIZES) {
  const cases = {
    floor: (rt) => measure(`require("uci").cursor(${JSON.stringify(rt.conf)}):foreach("network", nil, function() end)`, rt.env, ""),
    // What the configs themselves cost in memory: all three loaded and their sections kept,
    // as the plugin's model keeps them. The plugin's own share is its peak minus this.
    configs: (rt) =>
      measure(
        `local c, keep = require("uci").cursor(${JSON.stringify(rt.conf)}), {} for _, n in ipairs({"network", "firewall", "wgmgr"}) do c:foreach(n, nil, function(s) keep[#keep + 1] = s end) end`,
        rt.env,
        "",
      ),
    status: (rt) => measure(plugin("status"), rt.env, "{}"),
    get: (rt) => measure(plugin("get"), rt.env, "{}"),
    add_peer: (rt) => measure(plugin("add_peer"), rt.env, JSON.stringify({ name: `new ${Math.random()}` })),
  };
  const results = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  const rss = Object.fromEntries(Object.keys(cases).map((k) => [k, 0]));
  // Interleave the cases run by run so machine noise hits them alike.
  for (let run = 0; run < RUNS; run++) {
    for (const [name, fn] of Object.entries(cases)) {
      const rt = makeRouter(n);
      const m = fn(rt);
      results[name].push(m.secs);
      rss[name] = Math.max(rss[name], m.rssKb);
      removeTempDir(rt.dir);
    }
  }
  const floor = median(results.floor);
  for (const name of Object.keys(cases)) {
    rows.push({ peers: n, call: name, ms: median(results[name]) * 1000, ratio: median(results[name]) / floor, rssMb: rss[name] / 1024 });
  }
}

console.log(`wgmgr bench: median of ${RUNS} runs each, cases interleaved; ratio = time / floor (bare lua5.1 + one load of the same network config)`);
console.log("peers  call       time(ms)  x floor  peak RSS (MB)  own (MB, peak - configs)");
for (const r of rows) {
  const configs = rows.find((x) => x.peers === r.peers && x.call === "configs").rssMb;
  const own = r.call === "floor" || r.call === "configs" ? "" : (r.rssMb - configs).toFixed(1).padStart(10);
  console.log(`${String(r.peers).padStart(5)}  ${r.call.padEnd(9)} ${r.ms.toFixed(1).padStart(9)} ${r.ratio.toFixed(2).padStart(8)} ${r.rssMb.toFixed(1).padStart(14)} ${own}`);
}
console.log("(libuci here is the pure-Lua stand-in from test/lua, which needs several times the memory of the C library on the router.)");
// Linearity: cost per peer above the 10-peer cost, between 100 and 1000 peers.
for (const call of ["status", "get", "add_peer", "floor"]) {
  const at = (n) => rows.find((r) => r.peers === n && r.call === call).ms;
  const growth = (at(1000) - at(10)) / (at(100) - at(10));
  console.log(`${call.padEnd(9)} growth 10→1000 vs 10→100 peers: ${growth.toFixed(1)}x (linear ≈ 11x, quadratic ≈ 100x)`);
}

// The simulated router that the plugin runs against in `make dev`, the browser tests and
// the backend tests: what it finds when it runs `wg`, `ip` and `ubus`. test/sim/bin/*
// (first on its PATH) are small shell front ends that record every call and come here
// (`node sim.mjs wg|ip|ubus …`) for what needs state, so no command ever touches the
// host's network. See test/sim/README.md.
//
// - Keys are real X25519 keys (node:crypto), as `wg genkey | wg pubkey` would make.
// - The "kernel" state of each WireGuard interface is a JSON file in $WGMGR_SIM_LIVE.
// - netifd is modelled as OpenWrt's behaves (platform.md §9): on a network reload it
//   brings up a new WireGuard interface from UCI, restarts one whose interface section
//   changed, and ignores changes that only touch its peers (that is what `sync` is for).
import { createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import { accessSync, constants, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseUci as parseUciText } from "../lib/uci-text.mjs";

// ---- the environment that puts the plugin on this router ---------------------------------------

const HERE = import.meta.dirname;
export const SIM_BIN = join(HERE, "bin");

/** The real `wg` on the host's PATH (only its key commands are ever used), if any. */
function realWg() {
  for (const d of (process.env.PATH ?? "").split(delimiter)) {
    if (!d || resolve(d) === SIM_BIN) continue;
    try {
      accessSync(join(d, "wg"), constants.X_OK);
      return join(d, "wg");
    } catch {
      /* not here */
    }
  }
  return undefined;
}

/**
 * Environment for running the plugin against this simulated router, whose state lives in
 * the directory `dir`: its `wg`, `ip`, `ubus`, `logger` and /etc/init.d first, every call
 * recorded in <dir>/commands.log, root's crontab in <dir>/crontabs, the kernel's modules in
 * <dir>/modules (wireguard loaded), names resolved from `dns` ({ name: address }). With `live`,
 * interfaces run here (<dir>/live) as netifd would run them; without, nothing runs (the
 * shell front ends answer alone, which costs no more than the real tools). `wan`: the
 * WAN's IPv4 address.
 */
export function simEnv(dir, { live = false, wan, dns } = {}) {
  const wg = realWg();
  // The kernel's WireGuard module is loaded (a directory the plugin looks for).
  mkdirSync(join(dir, "modules/wireguard"), { recursive: true });
  return {
    PATH: `${SIM_BIN}${delimiter}${process.env.PATH ?? "/usr/bin:/bin"}`,
    WGMGR_INITDIR: join(HERE, "init.d"),
    WGMGR_CRONTABS: join(dir, "crontabs"),
    WGMGR_MODULES: join(dir, "modules"),
    ...(dns ? { WGMGR_SIM_DNS: Object.entries(dns).map(([n, a]) => `${n}=${a}`).join(",") } : {}),
    WGMGR_SIM_LOG: join(dir, "commands.log"),
    ...(live ? { WGMGR_SIM_LIVE: join(dir, "live") } : {}),
    ...(wan ? { WGMGR_SIM_WAN: wan } : {}),
    ...(wg ? { WGMGR_REAL_WG: wg } : {}),
  };
}

// ---- keys -----------------------------------------------------------------------------------

export function genkey() {
  const k = randomBytes(32);
  k[0] &= 248;
  k[31] &= 127;
  k[31] |= 64;
  return k.toString("base64");
}

export function genpsk() {
  return randomBytes(32).toString("base64");
}

export function pubkey(priv) {
  const raw = Buffer.from(priv.trim(), "base64");
  if (raw.length !== 32) throw new Error("Key is not the correct length or format");
  // PKCS#8 wrapping of a raw X25519 private key (RFC 8410).
  const der = Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), raw]);
  const spki = createPublicKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" })).export({ format: "der", type: "spki" });
  return spki.subarray(spki.length - 32).toString("base64");
}

// ---- UCI files --------------------------------------------------------------------------------

/** A config's sections as { ".type", ".name", option: value | [values] } (read by test/lib/uci-text.mjs). */
export function parseUci(text) {
  return parseUciText(text).map((s) => ({ ".type": s.type, ".name": s.name, ...s.options }));
}

export function readUci(confdir, name) {
  const p = join(confdir, name);
  return existsSync(p) ? parseUci(readFileSync(p, "utf8")) : [];
}

const asList = (v) => (v === undefined ? [] : Array.isArray(v) ? v : String(v).split(/\s+/).filter(Boolean));

// ---- live interfaces ----------------------------------------------------------------------------

export function liveDir() {
  const d = process.env.WGMGR_SIM_LIVE;
  if (!d) throw new Error("WGMGR_SIM_LIVE is not set");
  mkdirSync(d, { recursive: true });
  return d;
}

export function readLive(dir, name) {
  const p = join(dir, `${name}.json`);
  return existsSync(p) ? JSON.parse(readFileSync(p, "utf8")) : undefined;
}

export function writeLive(dir, state) {
  // write and rename, so a reader never sees half a file
  const tmp = join(dir, `.${state.name}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(state, null, 1));
  renameSync(tmp, join(dir, `${state.name}.json`));
}

export function listLive(dir) {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => readLive(dir, f.slice(0, -5)))
    .filter(Boolean)
    .sort((a, b) => a.name.localeCompare(b.name));
}

export function removeLive(dir, name) {
  rmSync(join(dir, `${name}.json`), { force: true });
}

/** Replaces an interface's peers, keeping the session data of peers that stay (wg syncconf). */
export function setPeers(state, peers) {
  const old = new Map(state.peers.map((p) => [p.public_key, p]));
  state.peers = peers.map((p) => {
    const o = old.get(p.public_key);
    return { endpoint: null, latest_handshake: 0, rx: 0, tx: 0, ...(o ?? {}), ...p };
  });
}

// ---- netifd ---------------------------------------------------------------------------------------

function interfaceOptions(s) {
  return JSON.stringify([s.private_key, s.listen_port, asList(s.addresses), s.mtu, s.disabled]);
}

function peersFromUci(network, name) {
  return network
    .filter((s) => s[".type"] === `wireguard_${name}` && s.disabled !== "1" && s.public_key)
    .map((s) => ({
      public_key: s.public_key,
      preshared_key: s.preshared_key ?? null,
      allowed_ips: asList(s.allowed_ips),
      keepalive: s.persistent_keepalive ? Number(s.persistent_keepalive) : 0,
      route: s.route_allowed_ips === "1",
    }));
}

/** Brings an interface up from UCI as netifd's WireGuard handler does (all peers, fresh). */
export function interfaceUp(dir, network, name) {
  const s = network.find((x) => x[".type"] === "interface" && x[".name"] === name && x.proto === "wireguard");
  if (!s || s.disabled === "1" || !s.private_key) return false;
  const state = {
    name,
    private_key: s.private_key,
    public_key: pubkey(s.private_key),
    listen_port: Number(s.listen_port ?? 0),
    uci: interfaceOptions(s),
    peers: [],
    routes: [],
  };
  const peers = peersFromUci(network, name);
  setPeers(state, peers.map(({ route, ...p }) => p));
  state.routes = peers.filter((p) => p.route).flatMap((p) => p.allowed_ips);
  writeLive(dir, state);
  return true;
}

/** `ubus call network reload`: what netifd does with the committed /etc/config/network. */
export function networkReload(dir, confdir) {
  const network = readUci(confdir, "network");
  const wanted = network.filter((s) => s[".type"] === "interface" && s.proto === "wireguard" && s.disabled !== "1");
  for (const live of listLive(dir)) {
    if (!wanted.some((s) => s[".name"] === live.name)) removeLive(dir, live.name);
  }
  for (const s of wanted) {
    const live = readLive(dir, s[".name"]);
    // Peer-only changes do not restart the interface: the running peers stay as they were.
    if (live === undefined || live.uci !== interfaceOptions(s)) interfaceUp(dir, network, s[".name"]);
  }
}

/** A device "connects": a handshake now, an endpoint and some traffic (dev preview only). */
export function handshake(dir, confdir, iface, peerRef) {
  const live = readLive(dir, iface);
  if (!live) return false;
  const network = readUci(confdir, "network");
  const byName = network.find((s) => s[".type"] === `wireguard_${iface}` && (s.description === peerRef || s[".name"] === peerRef));
  const key = byName?.public_key ?? peerRef;
  const p = live.peers.find((x) => x.public_key === key);
  if (!p) return false;
  p.latest_handshake = Math.floor(Date.now() / 1000);
  p.endpoint = p.endpoint ?? "198.51.100.23:51413";
  p.rx += 148 + Math.floor(Math.random() * 90000);
  p.tx += 92 + Math.floor(Math.random() * 40000);
  writeLive(dir, live);
  return true;
}

// ---- the commands (test/sim/bin/* exec `node sim.mjs <command> <args>`) ----------------------

const out = (s) => process.stdout.write(s + "\n");
function die(msg, code = 1) {
  process.stderr.write(msg + "\n");
  process.exit(code);
}

function dumpLines(s) {
  const lines = [[s.name, s.private_key, s.public_key, s.listen_port, "off"].join("\t")];
  for (const p of s.peers) {
    lines.push(
      [s.name, p.public_key, p.preshared_key ?? "(none)", p.endpoint ?? "(none)", p.allowed_ips.join(",") || "(none)",
        p.latest_handshake, p.rx, p.tx, p.keepalive ? p.keepalive : "off"].join("\t"),
    );
  }
  return lines;
}

/** The [Interface]/[Peer] file `wg syncconf` reads. */
function parseConf(text) {
  const conf = { peers: [] };
  let cur = conf;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) continue;
    if (/^\[Peer\]$/i.test(line)) conf.peers.push((cur = { allowed_ips: [], keepalive: 0, preshared_key: null }));
    else if (/^\[Interface\]$/i.test(line)) cur = conf;
    else {
      const m = /^(\w+)\s*=\s*(.*)$/.exec(line);
      if (!m) die(`Line unrecognized: \`${line}'`);
      const [, k, v] = m;
      const key = k.toLowerCase();
      if (key === "publickey") cur.public_key = v;
      else if (key === "presharedkey") cur.preshared_key = v;
      else if (key === "allowedips") cur.allowed_ips.push(...v.split(",").map((x) => x.trim()).filter(Boolean));
      else if (key === "persistentkeepalive") cur.keepalive = v === "off" ? 0 : Number(v);
      else if (key === "privatekey") cur.private_key = v;
      else if (key === "listenport") cur.listen_port = Number(v);
      else if (key === "endpoint") cur.endpoint = v;
    }
  }
  return conf;
}

/** `wg`: real-format keys (when the real wg is missing), `show` and `syncconf`/`setconf` on the simulated interfaces. */
function wg([cmd, ...args]) {
  const dir = liveDir();
  if (cmd === "genkey") out(genkey());
  else if (cmd === "genpsk") out(genpsk());
  else if (cmd === "pubkey") {
    try {
      out(pubkey(readFileSync("/dev/stdin", "utf8")));
    } catch {
      die("Key is not the correct length or format");
    }
  } else if (cmd === "show") {
    const [what, field] = args;
    if (what === "all" && field === "dump") out(listLive(dir).flatMap(dumpLines).join("\n"));
    else if (what === "interfaces" || what === undefined) out(listLive(dir).map((s) => s.name).join(" "));
    else {
      const s = readLive(dir, what);
      if (!s) die("Unable to access interface: No such device");
      if (field === "public-key") out(s.public_key);
      else if (field === "listen-port") out(String(s.listen_port));
      else if (field === "peers") out(s.peers.map((p) => p.public_key).join("\n"));
      else out(dumpLines(s).join("\n"));
    }
  } else if (cmd === "syncconf" || cmd === "setconf") {
    const [name, file] = args;
    const s = readLive(dir, name);
    if (!s) die("Unable to modify interface: No such device");
    const conf = parseConf(readFileSync(file === "-" ? "/dev/stdin" : file, "utf8"));
    if (conf.private_key) {
      s.private_key = conf.private_key;
      s.public_key = pubkey(conf.private_key);
    }
    if (conf.listen_port) s.listen_port = conf.listen_port;
    if (cmd === "setconf") s.peers = [];
    setPeers(s, conf.peers.map(({ endpoint, ...p }) => p));
    writeLive(dir, s);
  } else die(`Usage: wg <cmd> [<args>] (simulated router: unknown command ${cmd})`);
}

/** `ip`: the routes of simulated WireGuard interfaces only; anything else is refused. */
function ip(argv) {
  const dir = liveDir();
  function routeCmd(words) {
    // route show dev X proto static | route replace|add|del NET dev X proto static
    const [op, ...rest] = words;
    const dev = rest[rest.indexOf("dev") + 1];
    const s = dev && readLive(dir, dev);
    if (!s) {
      process.stderr.write(`Cannot find device "${dev}"\n`);
      return false;
    }
    s.routes = s.routes || [];
    if (op === "show" || op === "list") return s.routes;
    const net = rest[0] === "default" ? "0.0.0.0/0" : rest[0];
    s.routes = s.routes.filter((r) => r !== net);
    if (op === "replace" || op === "add") s.routes.push(net);
    writeLive(dir, s);
    return true;
  }
  let family = 0;
  let args = argv;
  if (args[0] === "-4" || args[0] === "-6") {
    family = args[0] === "-4" ? 4 : 6;
    args = args.slice(1);
  }
  if (args[0] === "-batch") {
    const lines = readFileSync("/dev/stdin", "utf8").split("\n").map((l) => l.trim()).filter(Boolean);
    let ok = true;
    for (const l of lines) {
      const w = l.split(/\s+/);
      if (w[0] !== "route" || routeCmd(w.slice(1)) === false) ok = false;
    }
    process.exit(ok ? 0 : 1);
  } else if (args[0] === "route") {
    const r = routeCmd(args.slice(1));
    if (r === false) process.exit(1);
    if (Array.isArray(r)) {
      const want = r.filter((n) => family === 0 || (family === 6) === n.includes(":"));
      if (want.length) out(want.map((n) => `${n} proto static scope link`).join("\n"));
    }
  } else die("ip (simulated router): only `ip route` on WireGuard interfaces is simulated");
}

/** `ubus call …`: the WAN's status, network reload, and the state and start of an interface. */
function ubus([cmd, path, method]) {
  const confdir = process.env.WGMGR_CONFDIR;
  if (cmd !== "call") process.exit(1);
  const iface = path?.startsWith("network.interface.") ? path.slice("network.interface.".length) : undefined;
  if (iface === "wan6" && method === "status") {
    const v6 = process.env.WGMGR_SIM_WAN6;
    out(JSON.stringify({ up: !!v6, pending: false, proto: "dhcpv6", "ipv6-address": v6 ? [{ address: v6, mask: 64 }] : [] }));
  } else if (iface === "wan" && method === "status") {
    // WGMGR_SIM_WAN=none: a WAN without an IPv4 address.
    const v4 = process.env.WGMGR_SIM_WAN ?? "203.0.113.7";
    out(JSON.stringify({ up: true, pending: false, proto: "dhcp", "ipv4-address": v4 === "none" ? [] : [{ address: v4, mask: 24 }] }));
  } else if (path === "network" && method === "reload") {
    networkReload(liveDir(), confdir);
  } else if (iface !== undefined && method === "status" && readUci(confdir, "network").some((s) => s[".type"] === "interface" && s[".name"] === iface)) {
    // This netifd brings interfaces up at once, so one is never "pending" here.
    out(JSON.stringify({ up: readLive(liveDir(), iface) !== undefined, pending: false, available: true, autostart: true }));
  } else if (iface !== undefined && method === "up") {
    if (!interfaceUp(liveDir(), readUci(confdir, "network"), iface)) process.exit(4);
  } else die(`Command failed: Not found (simulated router: ubus call ${path} ${method})`, 4);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [command, ...args] = process.argv.slice(2);
  const commands = { wg, ip, ubus };
  if (!commands[command]) die(`sim.mjs: unknown command ${command}`);
  commands[command](args);
}

// The simulated router behind `make dev`: what the rpcd plugin finds when it runs
// `wg`, `ip` and `ubus` (test/dev/bin/* put these on its PATH), so no command ever
// touches the host's network.
//
// - Keys are real X25519 keys (node:crypto), as `wg genkey | wg pubkey` would make.
// - The "kernel" state of each WireGuard interface is a JSON file in $WGMGR_DEV_LIVE.
// - netifd is modelled as OpenWrt's behaves (platform.md §9): on a network reload it
//   brings up a new WireGuard interface from UCI, restarts one whose interface section
//   changed, and ignores changes that only touch its peers (that is what `sync` is for).
import { createPrivateKey, createPublicKey, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseUci as parseUciText } from "../lib/uci-text.mjs";

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
  const d = process.env.WGMGR_DEV_LIVE;
  if (!d) throw new Error("WGMGR_DEV_LIVE is not set");
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

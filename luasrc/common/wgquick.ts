// Reading a wg-quick file, as a relay, a VPS or a VPN provider hands it out, for
// `import` (the plugin) and the import page's preview (the views): one parser, so the
// page and the router never disagree. Every problem names the file's line.

import { Cidr, networkOf, parseAddress, parseCidr, parseDecimal } from "./ip";
import { T, Text } from "./text";
import { checkHost, checkKey, checkMtu, checkPort, Problem, trimName } from "./validate";

export interface Located<T> {
  value: T;
  line: number;
}

export interface QuickPeer {
  line: number; // of its [Peer]
  name?: string; // from a comment: "# office" or "# Name = office"
  publicKey?: Located<string>;
  presharedKey?: Located<string>;
  allowedIps: Located<Cidr>[];
  endpoint?: Located<{ host: string; port: number }>;
  keepalive?: number;
}

export interface QuickConfig {
  privateKey?: Located<string>;
  addresses: Located<Cidr>[];
  dns: string[];
  mtu?: number;
  listenPort?: number;
  fwmark?: string;
  peers: QuickPeer[];
  /** Lines wgmgr reads but does not carry out, each with what it does instead. */
  notes: Located<Text>[];
}

export interface QuickProblem extends Problem {
  line: number;
}

/** Commands wg-quick runs, which wgmgr never does. */
const COMMAND_KEYS: Record<string, string> = { preup: "PreUp", postup: "PostUp", predown: "PreDown", postdown: "PostDown" };

/** What wgmgr does instead of a key wg-quick runs or uses that netifd has no place for. */
function notCarriedOut(key: string, line: number): Text | undefined {
  if (COMMAND_KEYS[key] !== undefined) return T("Line {line}: wgmgr never runs commands from a file: {key} is ignored.", { line, key: COMMAND_KEYS[key] });
  if (key === "table") return T("Line {line}: netifd routes the tunnel's networks itself (route_allowed_ips), so Table is not used.", { line });
  if (key === "saveconfig") return T("Line {line}: the router keeps its configuration in UCI: SaveConfig is ignored.", { line });
  return undefined;
}

/** "host:port", "1.2.3.4:51820" or "[2001:db8::1]:51820". */
function parseEndpoint(text: string): { host: string; port: number } | undefined {
  let host: string;
  let portText: string;
  if (text.charAt(0) === "[") {
    const close = text.indexOf("]");
    if (close < 0 || text.charAt(close + 1) !== ":") return undefined;
    host = text.substring(1, close);
    portText = text.substring(close + 2);
    if (parseAddress(host)?.family !== 6) return undefined;
  } else {
    // A name or an IPv4 address: exactly one colon (an IPv6 literal needs brackets).
    const colon = text.indexOf(":");
    if (colon < 0 || text.indexOf(":", colon + 1) >= 0) return undefined;
    host = text.substring(0, colon);
    portText = text.substring(colon + 1);
    if (checkHost(host) !== undefined) return undefined;
  }
  const port = parseDecimal(portText, 65535);
  return port === undefined || port === 0 ? undefined : { host, port };
}

/** The name a comment gives: "# office", "# Name = office", "#Name: office". */
function commentName(comment: string): string {
  let t = trimName(comment.substring(1));
  const lower = t.substring(0, 5).toLowerCase();
  if (lower === "name:" || lower === "name=") t = trimName(t.substring(5));
  else if (lower === "name " && trimName(t.substring(5)).charAt(0) === "=") t = trimName(trimName(t.substring(5)).substring(1));
  return t;
}

/** The entries of a comma-separated value. */
function entries(value: string): string[] {
  return value
    .split(",")
    .map((v) => trimName(v))
    .filter((v) => v !== "");
}

/**
 * Parses wg-quick text: sections [Interface] and [Peer], keys in any case, "#" comments,
 * CRLF or LF line ends, tabs. Returns the configuration or the first problem.
 */
export function parseWgQuick(text: string): { config?: QuickConfig; problem?: QuickProblem } {
  const c: QuickConfig = { addresses: [], dns: [], peers: [], notes: [] };
  // Every message starts with "Line {line}:".
  const bad = (line: number, code: string, text: Text): { problem: QuickProblem } => ({ problem: { code, ...text, line } });
  let section = "";
  let seenInterface = false;
  let pendingName: string | undefined; // a comment just before a [Peer]
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const n = i + 1;
    let line = lines[i];
    if (line.charAt(line.length - 1) === "\r") line = line.substring(0, line.length - 1);
    const hash = line.indexOf("#");
    const comment = hash >= 0 ? line.substring(hash) : "";
    const content = trimName(hash >= 0 ? line.substring(0, hash) : line);
    const peer = c.peers[c.peers.length - 1];
    if (content === "") {
      const name = comment !== "" ? commentName(comment) : "";
      if (name !== "" && section === "peer" && peer !== undefined && peer.name === undefined && peer.publicKey === undefined) peer.name = name;
      else if (name !== "") pendingName = name;
      continue;
    }
    const header = content.toLowerCase();
    if (header === "[interface]") {
      if (seenInterface) return bad(n, "INVALID_CONFIG", T("Line {line}: a second [Interface] section.", { line: n }));
      seenInterface = true;
      section = "interface";
      pendingName = undefined;
      continue;
    }
    if (header === "[peer]") {
      section = "peer";
      c.peers.push({ line: n, name: pendingName, allowedIps: [] });
      pendingName = undefined;
      continue;
    }
    if (content.charAt(0) === "[") return bad(n, "INVALID_CONFIG", T("Line {line}: unknown section {section}.", { line: n, section: content }));
    const eq = content.indexOf("=");
    if (eq < 0) return bad(n, "INVALID_CONFIG", T('Line {line}: "{text}" is not "Key = value".', { line: n, text: content }));
    const key = trimName(content.substring(0, eq)).toLowerCase();
    const value = trimName(content.substring(eq + 1));
    if (section === "") return bad(n, "INVALID_CONFIG", T("Line {line}: a setting before [Interface] or [Peer].", { line: n }));
    pendingName = undefined; // a name comment stands right before its [Peer]
    const instead = notCarriedOut(key, n);
    if (instead !== undefined) {
      c.notes.push({ value: instead, line: n });
      continue;
    }
    if (section === "interface") {
      if (key === "privatekey") {
        if (checkKey(value) !== undefined) return bad(n, "INVALID_KEY", T("Line {line}: {key} is not a WireGuard key.", { line: n, key: "PrivateKey" }));
        c.privateKey = { value, line: n };
      } else if (key === "address") {
        for (const a of entries(value)) {
          const cidr = parseCidr(a, true);
          if (cidr === undefined) return bad(n, "INVALID_ADDRESS", T('Line {line}: "{text}" is not an address (for example 10.70.0.2/32).', { line: n, text: a }));
          c.addresses.push({ value: cidr, line: n });
        }
      } else if (key === "dns") {
        for (const d of entries(value)) {
          if (parseAddress(d) !== undefined) c.dns.push(d);
          else c.notes.push({ value: T("Line {line}: the search domain {domain} is not used: the router's resolver is not changed by a tunnel.", { line: n, domain: d }), line: n });
        }
      } else if (key === "mtu") {
        const mtu = parseDecimal(value, 99999);
        if (mtu === undefined || checkMtu(mtu) !== undefined) return bad(n, "INVALID_MTU", T("Line {line}: MTU {value} is not from 1280 to 9000.", { line: n, value }));
        c.mtu = mtu;
      } else if (key === "listenport") {
        const port = parseDecimal(value, 99999);
        if (port === undefined || checkPort(port) !== undefined) return bad(n, "INVALID_PORT", T("Line {line}: ListenPort {value} is not a port.", { line: n, value }));
        c.listenPort = port;
      } else if (key === "fwmark") {
        c.fwmark = value;
      } else return bad(n, "INVALID_CONFIG", T('Line {line}: unknown [Interface] key "{key}".', { line: n, key: trimName(content.substring(0, eq)) }));
      continue;
    }
    if (key === "publickey") {
      if (checkKey(value) !== undefined) return bad(n, "INVALID_KEY", T("Line {line}: {key} is not a WireGuard key.", { line: n, key: "PublicKey" }));
      peer.publicKey = { value, line: n };
    } else if (key === "presharedkey") {
      if (checkKey(value) !== undefined) return bad(n, "INVALID_KEY", T("Line {line}: {key} is not a WireGuard key.", { line: n, key: "PresharedKey" }));
      peer.presharedKey = { value, line: n };
    } else if (key === "allowedips") {
      for (const a of entries(value)) {
        const cidr = parseCidr(a, true);
        if (cidr === undefined) return bad(n, "INVALID_ADDRESS", T('Line {line}: "{text}" in AllowedIPs is not a network.', { line: n, text: a }));
        if (cidr.prefix === 0 && cidr.addr.words.some((w) => w !== 0)) {
          return bad(n, "INVALID_PREFIX", T('Line {line}: "{text}" means every address; write {everything} if that is meant.', { line: n, text: a, everything: cidr.addr.family === 4 ? "0.0.0.0/0" : "::/0" }));
        }
        // wg itself keeps only the network of an entry with host bits: so does wgmgr.
        peer.allowedIps.push({ value: networkOf(cidr), line: n });
      }
    } else if (key === "endpoint") {
      const e = parseEndpoint(value);
      if (e === undefined) return bad(n, "INVALID_ENDPOINT", T('Line {line}: Endpoint "{value}" is not host:port (for example vpn.example.net:51820 or [2001:db8::1]:51820).', { line: n, value }));
      peer.endpoint = { value: e, line: n };
    } else if (key === "persistentkeepalive") {
      const k = value.toLowerCase() === "off" ? 0 : parseDecimal(value, 65535);
      if (k === undefined) return bad(n, "INVALID_KEEPALIVE", T("Line {line}: PersistentKeepalive {value} is not a number of seconds.", { line: n, value }));
      peer.keepalive = k;
    } else return bad(n, "INVALID_CONFIG", T('Line {line}: unknown [Peer] key "{key}".', { line: n, key: trimName(content.substring(0, eq)) }));
  }
  if (!seenInterface) return bad(1, "INVALID_CONFIG", T("Line {line}: there is no [Interface] section.", { line: 1 }));
  if (c.privateKey === undefined) return bad(1, "INVALID_CONFIG", T("Line {line}: [Interface] has no PrivateKey.", { line: 1 }));
  if (c.addresses.length === 0) return bad(1, "INVALID_CONFIG", T("Line {line}: [Interface] has no Address.", { line: 1 }));
  if (c.peers.length === 0) return bad(lines.length, "INVALID_CONFIG", T("Line {line}: there is no [Peer] section.", { line: lines.length }));
  for (const p of c.peers) {
    if (p.publicKey === undefined) return bad(p.line, "INVALID_CONFIG", T("Line {line}: this [Peer] has no PublicKey.", { line: p.line }));
    if (p.allowedIps.length === 0) return bad(p.line, "NO_ALLOWED_IPS", T("Line {line}: this [Peer] has no AllowedIPs: nothing would be sent to it.", { line: p.line }));
  }
  return { config: c };
}

/** True when a peer's AllowedIPs take every address of a family (a full tunnel). */
export function isFullTunnel(c: QuickConfig): boolean {
  return c.peers.some((p) => p.allowedIps.some((a) => a.value.prefix === 0));
}

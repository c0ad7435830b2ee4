// Input checks shared by the plugin and the views. Each check returns undefined when
// the value is fine, or a Problem with a stable code and a message a home user can
// act on (translatable, see ./text). The plugin turns a Problem into {"error",
// "message", "field", "msgid", "params"}; the views show it next to the field.
import {
  Addr,
  Cidr,
  formatAddress,
  formatCidr,
  hasHostBits,
  maxPrefix,
  networkOf,
  parseAddress,
  parseCidr,
  parseDecimal,
  suggestedPrefix,
} from "./ip";
import { T, Text } from "./text";

/** What is wrong with a value: a stable code and a message (see ./text). */
export interface Problem extends Text {
  code: string;
}

export function problem(code: string, text: Text): Problem {
  return { code, ...text };
}

// Lua strings are byte strings, JS strings are UTF-16: "é" has length 2 in Lua.
const STRINGS_ARE_BYTES = "\u00e9".length === 2;

/**
 * The Unicode code points of a string, or undefined when it is not valid text: in Lua
 * (bytes) malformed UTF-8 (overlong forms, surrogates and values past U+10FFFF included),
 * in JS (UTF-16) a lone surrogate.
 */
export function codePoints(s: string): number[] | undefined {
  const out: number[] = [];
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (STRINGS_ARE_BYTES) {
      if (c < 0x80) {
        out.push(c);
        continue;
      }
      const extra = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
      if (extra < 0 || i + extra >= n) return undefined;
      let cp = c % (extra === 1 ? 32 : extra === 2 ? 16 : 8);
      for (let k = 1; k <= extra; k++) {
        const b = s.charCodeAt(i + k);
        if (b < 0x80 || b > 0xbf) return undefined;
        cp = cp * 64 + (b - 0x80);
      }
      const least = extra === 1 ? 0x80 : extra === 2 ? 0x800 : 0x10000;
      if (cp < least || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
      out.push(cp);
      i += extra;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const low = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (low < 0xdc00 || low > 0xdfff) return undefined;
      out.push(0x10000 + (c - 0xd800) * 1024 + (low - 0xdc00));
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return undefined;
    else out.push(c);
  }
  return out;
}

/** True for valid text (see codePoints); plain ASCII is checked without decoding. */
export function isValidText(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return codePoints(s) !== undefined;
  return true;
}

/** Length of a string in UTF-8 bytes, the same in both runtimes. */
export function utf8Length(s: string): number {
  if (STRINGS_ARE_BYTES) return s.length;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** ASCII letters folded to lower case (the same in both runtimes, whatever the locale). */
export function foldCase(s: string): string {
  // Lua's string.lower folds ASCII only (Lua runs in the C locale); JS would fold "É" too.
  if (STRINGS_ARE_BYTES) return s.toLowerCase();
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s.charAt(i);
  }
  return out;
}

/** White space at the ends of a name: ASCII, no-break space (U+00A0), ideographic space (U+3000). */
function spaceAt(s: string, i: number, fromEnd: boolean): number {
  const c = s.charCodeAt(i);
  if (c === 32 || (c >= 9 && c <= 13)) return 1;
  if (!STRINGS_ARE_BYTES) return c === 0xa0 || c === 0x3000 ? 1 : 0;
  // UTF-8: C2 A0 and E3 80 80, found from their first byte or, from the end, their last.
  const at = (k: number): number => s.charCodeAt(k);
  if (!fromEnd) return c === 0xc2 && at(i + 1) === 0xa0 ? 2 : c === 0xe3 && at(i + 1) === 0x80 && at(i + 2) === 0x80 ? 3 : 0;
  return c === 0xa0 && at(i - 1) === 0xc2 ? 2 : c === 0x80 && at(i - 1) === 0x80 && at(i - 2) === 0xe3 ? 3 : 0;
}

/** A name without the white space around it, as the plugin stores it and the pages send it. */
export function trimName(s: string): string {
  let start = 0;
  let end = s.length;
  for (let k = spaceAt(s, start, false); k > 0 && start < end; k = spaceAt(s, start, false)) start += k;
  for (let k = end > start ? spaceAt(s, end - 1, true) : 0; k > 0 && end > start; k = end > start ? spaceAt(s, end - 1, true) : 0) end -= k;
  return s.substring(start, end);
}

/**
 * Characters a name may not hold: controls (C0, DEL, C1), line and paragraph separators,
 * and the invisible direction marks and overrides that make a name look like another
 * (U+202E shows "gpj.exe" as "exe.jpg").
 */
function isForbiddenInName(cp: number): boolean {
  return (
    cp < 32 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x061c || cp === 0x200e || cp === 0x200f ||
    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069)
  );
}

function isIdentChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** UCI section/option names: libuci's set() accepts "wg-0" but commit silently drops it. */
export function isUciName(s: string): boolean {
  if (s.length === 0 || s.length > 64) return false;
  for (let i = 0; i < s.length; i++) if (!isIdentChar(s.charCodeAt(i))) return false;
  return true;
}

/** Interface names become a Linux device, a UCI section and a firewall zone name. */
export const MAX_IFACE_NAME = 11;

export function checkInterfaceName(s: string): Problem | undefined {
  if (!isUciName(s) || s.length > MAX_IFACE_NAME) {
    return problem(
      "INVALID_NAME",
      T('"{name}" cannot be an interface name: use 1 to {max} letters, digits or "_" (for example "wg0").', { name: s, max: MAX_IFACE_NAME }),
    );
  }
  return undefined;
}

export const MAX_PEER_NAME_BYTES = 64;

/**
 * Peer names are free text in any language, trimmed (trimName), on one line, without
 * controls or direction overrides. Two names that differ only in the case of ASCII
 * letters are the same name (foldCase).
 */
export function checkPeerName(s: string): Problem | undefined {
  if (trimName(s).length === 0) return problem("INVALID_NAME", T('Give the device a name, for example "iPhone".'));
  if (utf8Length(s) > MAX_PEER_NAME_BYTES) {
    return problem("INVALID_NAME", T("The name is too long: at most {max} bytes.", { max: MAX_PEER_NAME_BYTES }));
  }
  const cps = codePoints(s);
  if (cps === undefined) return problem("INVALID_UTF8", T("The name is not valid UTF-8 text."));
  for (const cp of cps) {
    if (isForbiddenInName(cp)) return problem("INVALID_NAME", T("The name cannot contain line breaks, control characters or text-direction marks."));
  }
  return undefined;
}

export function checkPort(n: number): Problem | undefined {
  if (!isWholeNumber(n) || n < 1 || n > 65535) {
    return problem("INVALID_PORT", T("The port must be a whole number from 1 to 65535 (WireGuard usually uses 51820)."));
  }
  return undefined;
}

export const MIN_MTU = 1280;
export const MAX_MTU = 9000;

export function checkMtu(n: number): Problem | undefined {
  if (!isWholeNumber(n) || n < MIN_MTU || n > MAX_MTU) {
    return problem(
      "INVALID_MTU",
      T("The MTU must be a whole number from {min} to {max}; 1420 suits most links, 1412 suits PPPoE.", { min: MIN_MTU, max: MAX_MTU }),
    );
  }
  return undefined;
}

export function checkKeepalive(n: number): Problem | undefined {
  if (!isWholeNumber(n) || n < 0 || n > 65535) {
    return problem("INVALID_KEEPALIVE", T("Keepalive is a number of seconds from 0 (off) to 65535; 25 suits devices behind NAT."));
  }
  return undefined;
}

export function checkMetric(n: number): Problem | undefined {
  if (!isWholeNumber(n) || n < 0 || n > 2147483647) {
    return problem("INVALID_ARGUMENT", T("The metric is a whole number from 0 (lower numbers win)."));
  }
  return undefined;
}

function isWholeNumber(n: number): boolean {
  return typeof n === "number" && n === n && Math.floor(n) === n && n < 1e15 && n > -1e15;
}

const BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * A WireGuard key: base64 of exactly 32 bytes, i.e. 43 characters plus "=", where the
 * last character carries only 4 meaningful bits (so its low 2 bits must be zero).
 */
export function isWireGuardKey(s: string): boolean {
  if (s.length !== 44 || s.charAt(43) !== "=") return false;
  for (let i = 0; i < 43; i++) if (BASE64.indexOf(s.charAt(i)) < 0) return false;
  return BASE64.indexOf(s.charAt(42)) % 4 === 0;
}

export function checkKey(s: string): Problem | undefined {
  if (!isWireGuardKey(s)) {
    return problem("INVALID_KEY", T('This is not a WireGuard key: a key is 44 characters of base64 ending in "=".'));
  }
  return undefined;
}

function describePrefixZero(c: Cidr, text: string): Problem {
  const meant = { addr: c.addr, prefix: suggestedPrefix(c.addr) };
  return problem(
    "INVALID_PREFIX",
    T('"{text}" means every {family} address (the whole Internet), not one network. Did you mean {meant}? For a full tunnel write {everything}.', {
      text,
      family: c.addr.family === 4 ? "IPv4" : "IPv6",
      meant: formatCidr(networkOf(meant)),
      everything: c.addr.family === 4 ? "0.0.0.0/0" : "::/0",
    }),
  );
}

/**
 * A network prefix such as a LAN behind a peer or a route target. "10.0.0.0/0" is
 * refused (it silently means "everything"), and so are host bits ("10.0.0.5/24").
 * A bare address is a host (/32 or /128) when `allowHost` is set.
 */
export function checkSubnet(text: string, allowHost = true): Problem | undefined {
  const c = parseCidr(text, allowHost);
  if (c === undefined) {
    return problem(
      "INVALID_ADDRESS",
      T('"{text}" is not a valid network: write it like 192.168.1.0/24 or fd00:1::/64.', { text }),
    );
  }
  if (c.prefix === 0 && !isAllZero(c.addr)) return describePrefixZero(c, text);
  if (hasHostBits(c)) {
    return problem(
      "HOST_BITS_SET",
      T('"{text}" is an address inside a network, not the network itself: write {network}.', { text, network: formatCidr(networkOf(c)) }),
    );
  }
  return undefined;
}

/** An address of this router inside the tunnel, with the tunnel's prefix ("192.168.100.1/24"). */
export function checkInterfaceAddress(text: string, family: 4 | 6): Problem | undefined {
  const c = parseCidr(text, false);
  const example = family === 4 ? "192.168.100.1/24" : "fd00:100::1/64";
  if (c === undefined || c.addr.family !== family) {
    return problem(
      "INVALID_ADDRESS",
      T('"{text}" is not a valid {family} address with prefix: write it like {example}.', { text, family: family === 4 ? "IPv4" : "IPv6", example }),
    );
  }
  if (c.prefix === 0) return describePrefixZero(c, text);
  const maxUseful = maxPrefix(family) - 2;
  if (c.prefix > maxUseful) {
    return problem(
      "INVALID_PREFIX",
      T('"{text}" leaves no room for devices: the tunnel needs a subnet such as {example} (the prefix carries the route to the tunnel).', { text, example }),
    );
  }
  if (!hasHostBits(c) || isBroadcast(c)) {
    return problem(
      "INVALID_ADDRESS",
      T("{address} cannot be the router's own address in {network}: use for example {example}.", {
        address: formatAddress(c.addr),
        network: formatCidr(networkOf(c)),
        example,
      }),
    );
  }
  if (family === 6 && !isGlobalOrUla(c.addr)) {
    return problem(
      "INVALID_ADDRESS",
      T(
        "{address} is not a unicast address a tunnel can use (multicast, link-local and IPv4-mapped addresses cannot be routed): use a ULA such as {example}, or a global prefix.",
        { address: formatAddress(c.addr), example },
      ),
    );
  }
  return undefined;
}

/** Global unicast (2000::/3) or unique local (fc00::/7): the IPv6 addresses a tunnel subnet can use. */
function isGlobalOrUla(a: Addr): boolean {
  const top = a.words[0];
  return (top >= 0x2000 && top <= 0x3fff) || (top >= 0xfc00 && top <= 0xfdff);
}

function isAllZero(a: Addr): boolean {
  for (const w of a.words) if (w !== 0) return false;
  return true;
}

function isBroadcast(c: Cidr): boolean {
  if (c.addr.family !== 4) return false;
  const net = networkOf(c).addr;
  const size = Math.pow(2, 32 - c.prefix);
  const a = c.addr.words[0] * 65536 + c.addr.words[1];
  const n = net.words[0] * 65536 + net.words[1];
  return a - n === size - 1;
}

export function checkIpAddress(text: string): Problem | undefined {
  if (parseAddress(text) === undefined) return problem("INVALID_ADDRESS", T('"{text}" is not an IP address (for example 192.168.100.2).', { text }));
  return undefined;
}

export function checkDnsServer(text: string): Problem | undefined {
  if (parseAddress(text) === undefined) {
    return problem("INVALID_DNS", T('"{text}" is not an IP address of a DNS server (for example 192.168.1.1).', { text }));
  }
  return undefined;
}

/** A public endpoint: a DNS name or a literal IP address. */
export function checkHost(text: string): Problem | undefined {
  if (parseAddress(text) !== undefined) return undefined;
  const bad = problem("INVALID_HOST", T('"{text}" is not a host name or IP address (for example myhome.ddns.net).', { text }));
  if (text.length === 0 || text.length > 253) return bad;
  for (const label of text.split(".")) {
    if (label.length === 0 || label.length > 63) return bad;
    if (label.charAt(0) === "-" || label.charAt(label.length - 1) === "-") return bad;
    for (let i = 0; i < label.length; i++) {
      const c = label.charCodeAt(i);
      if (!(isIdentChar(c) && c !== 95) && c !== 45) return bad;
    }
  }
  // A name made only of digits and dots would be read as a (broken) IPv4 address.
  if (parseDecimal(text.split(".").join(""), 1e15) !== undefined) return bad;
  return undefined;
}

/**
 * Splits user input given as one string ("a, b c") or a list into its entries, and
 * flags list entries that hide several values behind commas: netifd would write them
 * into one AllowedIPs line and lose routes (openwrt#21411).
 */
export function splitList(value: string | string[]): string[] {
  const raw = typeof value === "string" ? [value] : value;
  const out: string[] = [];
  for (const item of raw) {
    for (const piece of item.split(",")) {
      for (const word of piece.split(" ")) {
        const t = word.trim();
        if (t.length > 0) out.push(t);
      }
    }
  }
  return out;
}

// ---- per-device access (S6) ------------------------------------------------------------

/** One place a device may reach: a host or network, optionally only some ports of TCP or UDP. */
export interface Destination {
  net: Cidr;
  /** Ports and ranges ("445", "8000-8080"), when limited. */
  ports: string[];
  /** "tcp" or "udp" when limited to one; both when only ports are given. */
  proto?: "tcp" | "udp";
}

function parsePorts(text: string): string[] | undefined {
  const out: string[] = [];
  for (const part of text.split(",")) {
    const range = part.split("-");
    if (range.length > 2) return undefined;
    // (No array of maybe-undefined numbers: in Lua a nil would end the array.)
    const lo = parseDecimal(range[0], 65535);
    const hi = range.length === 2 ? parseDecimal(range[1], 65535) : lo;
    if (lo === undefined || hi === undefined || lo === 0 || lo > hi) return undefined;
    out.push(range.length === 2 ? `${lo}-${hi}` : `${lo}`);
  }
  return out;
}

/**
 * Reads a destination as written in a device's access list: "10.0.0.2",
 * "192.168.1.0/24:80,443/tcp", "10.0.0.5:445/tcp", "10.0.0.9:53", "[fd00::5]:445/tcp",
 * "fd00:1::/64". Ports without a protocol mean TCP and UDP.
 */
export function parseDestination(text: string): Destination | Problem {
  const bad = problem(
    "INVALID_ACCESS",
    T(
      '"{text}" is not a destination: write a host or network, optionally with ports and tcp or udp, like 192.168.1.5, 192.168.1.0/24:80,443/tcp or [fd00::5]:445/tcp.',
      { text },
    ),
  );
  let t = text;
  let proto: "tcp" | "udp" | undefined;
  const tail = t.substring(t.length - 4).toLowerCase();
  if (tail === "/tcp" || tail === "/udp") {
    proto = tail === "/tcp" ? "tcp" : "udp";
    t = t.substring(0, t.length - 4);
  }
  let where = t;
  let ports: string[] = [];
  if (t.charAt(0) === "[") {
    const close = t.indexOf("]");
    if (close < 0) return bad;
    where = t.substring(1, close);
    const rest = t.substring(close + 1);
    if (rest !== "") {
      if (rest.charAt(0) !== ":") return bad;
      const p = parsePorts(rest.substring(1));
      if (p === undefined) return bad;
      ports = p;
    }
  } else if (t.indexOf(":") >= 0 && t.indexOf(":") === t.split(":")[0].length && t.split(":").length === 2) {
    // IPv4 with ports: exactly one colon (an IPv6 address with ports needs brackets).
    where = t.split(":")[0];
    const p = parsePorts(t.split(":")[1]);
    if (p === undefined) return bad;
    ports = p;
  }
  const p = checkSubnet(where);
  if (p !== undefined) return p.code === "INVALID_ADDRESS" ? bad : p;
  const net = parseCidr(where, true) as Cidr;
  if (net.prefix === 0) return problem("INVALID_ACCESS", T('"{text}" is everything: give the device access "internet" or "lan" instead.', { text }));
  return { net, ports, proto };
}

/** A destination written back the way parseDestination reads it. */
export function formatDestination(d: Destination): string {
  const where = d.net.prefix === maxPrefix(d.net.addr.family) ? formatAddress(d.net.addr) : formatCidr(d.net);
  const ports = d.ports.length > 0 ? (d.net.addr.family === 6 ? `[${where}]:` : `${where}:`) + d.ports.join(",") : where;
  return ports + (d.proto !== undefined ? `/${d.proto}` : "");
}

// IPv4/IPv6 address and prefix arithmetic, shared by the rpcd plugin (compiled to
// Lua 5.1 by TSTL) and the LuCI views (bundled by esbuild).
//
// Lua 5.1 has no bitwise operators and no regular expressions, so everything here
// is plain arithmetic on 16-bit words and character codes: an IPv4 address is two
// words, an IPv6 address eight. Only non-negative numbers meet `%`, whose sign
// rules differ between Lua and JS.

import { T, type Text } from "./text";

export interface Addr {
  family: 4 | 6;
  words: number[]; // 16-bit words, most significant first (2 for IPv4, 8 for IPv6)
}

export interface Cidr {
  addr: Addr;
  prefix: number;
}

const HEX = "0123456789abcdef";

function isDigitCode(c: number): boolean {
  return c >= 48 && c <= 57;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** A decimal number made only of digits, without leading zeros, up to `max`. */
export function parseDecimal(s: string, max: number): number | undefined {
  if (s.length === 0 || s.length > 10) return undefined;
  if (s.length > 1 && s.charCodeAt(0) === 48) return undefined;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDigitCode(c)) return undefined;
    n = n * 10 + (c - 48);
  }
  return n <= max ? n : undefined;
}

function parseIPv4Words(s: string): number[] | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const bytes: number[] = [];
  for (const p of parts) {
    const b = parseDecimal(p, 255);
    if (b === undefined) return undefined;
    bytes.push(b);
  }
  return [bytes[0] * 256 + bytes[1], bytes[2] * 256 + bytes[3]];
}

function parseHexWord(s: string): number | undefined {
  if (s.length === 0 || s.length > 4) return undefined;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const v = hexValue(s.charCodeAt(i));
    if (v < 0) return undefined;
    n = n * 16 + v;
  }
  return n;
}

/** Parses the groups on one side of "::" (may end with a dotted IPv4 part). */
function parseIPv6Groups(s: string, allowV4Tail: boolean): number[] | undefined {
  if (s.length === 0) return [];
  const groups = s.split(":");
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (allowV4Tail && i === groups.length - 1 && g.indexOf(".") >= 0) {
      const v4 = parseIPv4Words(g);
      if (v4 === undefined) return undefined;
      words.push(v4[0], v4[1]);
    } else {
      const w = parseHexWord(g);
      if (w === undefined) return undefined;
      words.push(w);
    }
  }
  return words;
}

function parseIPv6Words(s: string): number[] | undefined {
  const gap = s.indexOf("::");
  if (gap < 0) {
    const words = parseIPv6Groups(s, true);
    return words !== undefined && words.length === 8 ? words : undefined;
  }
  if (s.indexOf("::", gap + 1) >= 0) return undefined;
  const head = parseIPv6Groups(s.substring(0, gap), false);
  const tail = parseIPv6Groups(s.substring(gap + 2), true);
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  const words = [...head];
  for (let i = 0; i < missing; i++) words.push(0);
  for (const w of tail) words.push(w);
  return words;
}

/** Parses a literal IPv4 or IPv6 address (no prefix, no zone index). */
export function parseAddress(s: string): Addr | undefined {
  if (s.length === 0 || s.length > 45) return undefined;
  if (s.indexOf(":") >= 0) {
    const words = parseIPv6Words(s);
    return words === undefined ? undefined : { family: 6, words };
  }
  const words = parseIPv4Words(s);
  return words === undefined ? undefined : { family: 4, words };
}

export function maxPrefix(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

/**
 * Parses "addr/prefix". Without "/prefix" the result is a host prefix (/32 or /128)
 * when `hostDefault` is set, otherwise undefined.
 */
export function parseCidr(s: string, hostDefault = false): Cidr | undefined {
  const slash = s.indexOf("/");
  if (slash < 0) {
    if (!hostDefault) return undefined;
    const addr = parseAddress(s);
    return addr === undefined ? undefined : { addr, prefix: maxPrefix(addr.family) };
  }
  const addr = parseAddress(s.substring(0, slash));
  if (addr === undefined) return undefined;
  const prefix = parseDecimal(s.substring(slash + 1), maxPrefix(addr.family));
  return prefix === undefined ? undefined : { addr, prefix };
}

export function formatAddress(a: Addr): string {
  if (a.family === 4) {
    const w = a.words;
    return `${Math.floor(w[0] / 256)}.${w[0] % 256}.${Math.floor(w[1] / 256)}.${w[1] % 256}`;
  }
  // RFC 5952: lower case, no leading zeros, the longest run (>= 2) of zero words as "::".
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && a.words[i] === 0) {
      if (runStart < 0) runStart = i;
    } else if (runStart >= 0) {
      if (i - runStart > bestLen) {
        bestStart = runStart;
        bestLen = i - runStart;
      }
      runStart = -1;
    }
  }
  const hex = (w: number): string => {
    let out = "";
    do {
      out = HEX.charAt(w % 16) + out;
      w = Math.floor(w / 16);
    } while (w > 0);
    return out;
  };
  const join = (ws: number[]): string => ws.map((w) => hex(w)).join(":");
  if (bestStart < 0) return join(a.words);
  const head = join(a.words.slice(0, bestStart));
  const tail = join(a.words.slice(bestStart + bestLen));
  return `${head}::${tail}`;
}

export function formatCidr(c: Cidr): string {
  return `${formatAddress(c.addr)}/${c.prefix}`;
}

/** The address with every bit after `prefix` cleared. */
function maskWords(a: Addr, prefix: number): Addr {
  const words: number[] = [];
  for (let i = 0; i < a.words.length; i++) {
    const keep = Math.min(16, Math.max(0, prefix - 16 * i));
    const unit = Math.pow(2, 16 - keep);
    words.push(Math.floor(a.words[i] / unit) * unit);
  }
  return { family: a.family, words };
}

/** The network a prefix belongs to: "192.168.1.5/24" gives "192.168.1.0/24". */
export function networkOf(c: Cidr): Cidr {
  return { addr: maskWords(c.addr, c.prefix), prefix: c.prefix };
}

export function sameAddress(a: Addr, b: Addr): boolean {
  return compareAddress(a, b) === 0;
}

/** Orders addresses of one family; IPv4 sorts before IPv6. */
export function compareAddress(a: Addr, b: Addr): number {
  if (a.family !== b.family) return a.family - b.family;
  for (let i = 0; i < a.words.length; i++) {
    if (a.words[i] !== b.words[i]) return a.words[i] < b.words[i] ? -1 : 1;
  }
  return 0;
}

export function hasHostBits(c: Cidr): boolean {
  return !sameAddress(c.addr, networkOf(c).addr);
}

export function containsAddress(net: Cidr, a: Addr): boolean {
  return net.addr.family === a.family && sameAddress(networkOf(net).addr, maskWords(a, net.prefix));
}

/** True when two prefixes share at least one address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  if (a.addr.family !== b.addr.family) return false;
  const shorter = a.prefix <= b.prefix ? a : b;
  const longer = shorter === a ? b : a;
  return containsAddress(shorter, longer.addr);
}

/**
 * For a prefix written as "/0" by mistake ("192.168.10.0/0"), the prefix the user
 * most likely meant: the one that covers the address's non-zero part.
 */
export function suggestedPrefix(a: Addr): number {
  const bits = maxPrefix(a.family);
  let prefix = bits;
  // Walk back over trailing all-zero bytes (IPv4) or words (IPv6).
  const unitBits = a.family === 4 ? 8 : 16;
  const units: number[] = [];
  for (const w of a.words) {
    if (a.family === 4) units.push(Math.floor(w / 256), w % 256);
    else units.push(w);
  }
  for (let i = units.length - 1; i >= 0 && units[i] === 0; i--) prefix -= unitBits;
  return prefix === 0 ? bits : prefix;
}

/**
 * The address `offset` places after the start of the network (offset >= 0), or
 * undefined when it falls outside the prefix. Offsets count in the low 48 bits,
 * which is plenty for a tunnel subnet and stays exact in a double.
 */
export function addressAt(net: Cidr, offset: number): Addr | undefined {
  const base = networkOf(net).addr;
  const words = [...base.words];
  let carry = offset;
  for (let i = words.length - 1; i >= 0 && carry > 0; i--) {
    const sum = words[i] + carry;
    words[i] = sum % 65536;
    carry = Math.floor(sum / 65536);
  }
  if (carry > 0) return undefined;
  const a: Addr = { family: base.family, words };
  return containsAddress(net, a) ? a : undefined;
}

/** How far `a` lies after the network start (low 48 bits only; see addressAt). */
export function offsetIn(net: Cidr, a: Addr): number {
  const base = networkOf(net).addr;
  let offset = 0;
  const n = a.words.length;
  for (let i = Math.max(0, n - 3); i < n; i++) offset = offset * 65536 + (a.words[i] - base.words[i]);
  return offset;
}

/** Number of addresses in the prefix, capped at 2^48. */
export function sizeOf(c: Cidr): number {
  return Math.pow(2, Math.min(48, maxPrefix(c.addr.family) - c.prefix));
}


// IPv4 ranges that are not reachable from the Internet: a WAN address inside one means
// the router sits behind another NAT (an ISP box, or carrier-grade NAT).
const NON_PUBLIC_V4: [string, "cgnat" | "private" | "link-local"][] = [
  ["100.64.0.0/10", "cgnat"],
  ["10.0.0.0/8", "private"],
  ["172.16.0.0/12", "private"],
  ["192.168.0.0/16", "private"],
  ["169.254.0.0/16", "link-local"],
];

/** The non-public range an IPv4 address is in ("100.64.0.0/10 (carrier-grade NAT)"), if any. */
export function nonPublicRange(a: Addr): Text | undefined {
  if (a.family !== 4) return undefined;
  for (const [range, kind] of NON_PUBLIC_V4) {
    if (!containsAddress(parseCidr(range, false) as Cidr, a)) continue;
    if (kind === "cgnat") return T("{range} (carrier-grade NAT)", { range });
    return kind === "private" ? T("{range} (a private network)", { range }) : T("{range} (a link-local network)", { range });
  }
  return undefined;
}

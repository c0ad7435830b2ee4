// Rendering of WireGuard configuration text: the wg-quick file handed to a client,
// and the `wg setconf`/`wg syncconf` file the plugin feeds to the running interface
// (the same content netifd's WireGuard handler builds from UCI).

import { T } from "./text";

export interface ClientConfig {
  name: string;
  privateKey?: string; // absent when the router did not keep the peer's private key
  addresses: string[];
  dns: string[];
  mtu?: number;
  serverPublicKey: string;
  presharedKey?: string;
  allowedIps: string[];
  endpoint?: string; // "host:port"
  keepalive?: number;
}

/** The comment where the private key would be; the views show it in the user's language (localizeConfig). */
export const MISSING_PRIVATE_KEY = T("The router did not keep this device's private key: put the key you saved when the device was added here.");
const MISSING_PRIVATE_KEY_NOTE = "# " + MISSING_PRIVATE_KEY.message;

/** The wg-quick file for a client ([Interface] + one [Peer], the router). */
export function renderClientConfig(c: ClientConfig): string {
  const lines: string[] = [`# ${c.name}`, "[Interface]"];
  if (c.privateKey !== undefined) lines.push(`PrivateKey = ${c.privateKey}`);
  else lines.push(MISSING_PRIVATE_KEY_NOTE, "# PrivateKey = ");
  lines.push(`Address = ${c.addresses.join(", ")}`);
  if (c.dns.length > 0) lines.push(`DNS = ${c.dns.join(", ")}`);
  if (c.mtu !== undefined) lines.push(`MTU = ${c.mtu}`);
  lines.push("", "[Peer]", `PublicKey = ${c.serverPublicKey}`);
  if (c.presharedKey !== undefined) lines.push(`PresharedKey = ${c.presharedKey}`);
  lines.push(`AllowedIPs = ${c.allowedIps.join(", ")}`);
  if (c.endpoint !== undefined) lines.push(`Endpoint = ${c.endpoint}`);
  if (c.keepalive !== undefined && c.keepalive > 0) lines.push(`PersistentKeepalive = ${c.keepalive}`);
  return lines.join("\n") + "\n";
}

const FORBIDDEN_IN_FILE_NAMES = '/\\:*?"<>|';

/**
 * The download name of a client config: the device's name as the user wrote it (the
 * WireGuard apps show the file name as the tunnel's name, in any language), without the
 * characters file systems forbid (/ \ : * ? " < > |, controls) and without dots or
 * spaces at its ends (Windows drops them); the section id when nothing is left.
 */
export function configFileName(name: string, fallback: string): string {
  let out = "";
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 32 && c !== 127 && FORBIDDEN_IN_FILE_NAMES.indexOf(name.charAt(i)) < 0) out += name.charAt(i);
  }
  let start = 0;
  let end = out.length;
  while (start < end && (out.charAt(start) === " " || out.charAt(start) === ".")) start++;
  while (end > start && (out.charAt(end - 1) === " " || out.charAt(end - 1) === ".")) end--;
  out = out.substring(start, end);
  return (out === "" ? fallback : out) + ".conf";
}

/** "host:port" with IPv6 literals in brackets, as wg and wg-quick expect. */
export function formatEndpoint(host: string, port: number): string {
  return host.indexOf(":") >= 0 ? `[${host}]:${port}` : `${host}:${port}`;
}

export interface DevicePeer {
  publicKey: string;
  presharedKey?: string;
  allowedIps: string[];
  endpoint?: string;
  keepalive?: number;
}

export interface DeviceConfig {
  privateKey: string;
  listenPort?: number;
  peers: DevicePeer[];
}

/** The configuration file read by `wg setconf` / `wg syncconf` (no wg-quick keys). */
export function renderDeviceConfig(d: DeviceConfig): string {
  const lines: string[] = ["[Interface]", `PrivateKey = ${d.privateKey}`];
  if (d.listenPort !== undefined) lines.push(`ListenPort = ${d.listenPort}`);
  for (const p of d.peers) {
    lines.push("", "[Peer]", `PublicKey = ${p.publicKey}`);
    if (p.presharedKey !== undefined) lines.push(`PresharedKey = ${p.presharedKey}`);
    if (p.allowedIps.length > 0) lines.push(`AllowedIPs = ${p.allowedIps.join(", ")}`);
    if (p.endpoint !== undefined) lines.push(`Endpoint = ${p.endpoint}`);
    if (p.keepalive !== undefined && p.keepalive > 0) lines.push(`PersistentKeepalive = ${p.keepalive}`);
  }
  return lines.join("\n") + "\n";
}

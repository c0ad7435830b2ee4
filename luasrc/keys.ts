// Key handling: every key comes from the real `wg` tool, in one fork per call.

import { isWireGuardKey } from "./common/validate";
import { T } from "./common/text";
import { fail } from "./errors";
import { run, runWithInput } from "./system";

export interface KeySet {
  privateKey?: string;
  publicKey?: string;
  presharedKey?: string;
}

/**
 * Generates a key pair and/or a preshared key with one shell: wg genkey, wg pubkey
 * (the private key goes through a pipe, never a command line) and wg genpsk.
 */
export function generateKeys(pair: boolean, psk: boolean): KeySet {
  if (!pair && !psk) return {};
  const script: string[] = ["umask 077"];
  if (pair) script.push('k=$(wg genkey) || exit 1', 'echo "$k"', 'echo "$k" | wg pubkey || exit 1');
  if (psk) script.push("wg genpsk || exit 1");
  const r = run(`(${script.join("; ")})`);
  const lines: string[] = [];
  for (const [line] of string.gmatch(r.output, "[^\n]+")) lines.push(line);
  const keys: KeySet = {};
  if (pair) {
    keys.privateKey = lines[0];
    keys.publicKey = lines[1];
  }
  if (psk) keys.presharedKey = lines[pair ? 2 : 0];
  const valid = (k: string | undefined): boolean => k !== undefined && isWireGuardKey(k);
  if (!r.ok || (pair && !(valid(keys.privateKey) && valid(keys.publicKey))) || (psk && !valid(keys.presharedKey))) {
    fail("KEYGEN_FAILED", T("Could not generate WireGuard keys: is wireguard-tools (the wg command) installed?"));
  }
  return keys;
}

/** The public key of a private key, via `wg pubkey` on stdin; undefined if it fails. */
export function publicKeyOf(privateKey: string): string | undefined {
  const r = runWithInput("wg pubkey", privateKey + "\n");
  return r.ok && isWireGuardKey(r.output) ? r.output : undefined;
}

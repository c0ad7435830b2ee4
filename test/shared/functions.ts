// The shared functions under test, wrapped to take and return plain JSON values, so the
// same vectors run against the JS build (vitest) and the Lua build (TSTL, lua5.1).
import * as ip from "../../luasrc/common/ip";
import * as v from "../../luasrc/common/validate";
import { renderClientConfig, ClientConfig, configFileName } from "../../luasrc/common/wgconf";
import { parseWgQuick } from "../../luasrc/common/wgquick";
import { fill, T } from "../../luasrc/common/text";

const cidr = (s: string): ip.Cidr => ip.parseCidr(s, true) as ip.Cidr;
const code = (p: v.Problem | undefined): string | false => (p === undefined ? false : p.code);

export const FUNCTIONS: Record<string, (...args: any[]) => unknown> = {
  parseAddress: (s: string) => {
    const a = ip.parseAddress(s);
    return a === undefined ? false : ip.formatAddress(a);
  },
  parseCidr: (s: string, host: boolean) => {
    const c = ip.parseCidr(s, host);
    return c === undefined ? false : ip.formatCidr(c);
  },
  networkOf: (s: string) => ip.formatCidr(ip.networkOf(cidr(s))),
  overlaps: (a: string, b: string) => ip.overlaps(cidr(a), cidr(b)),
  contains: (net: string, a: string) => ip.containsAddress(cidr(net), cidr(a).addr),
  suggestedPrefix: (s: string) => ip.suggestedPrefix(cidr(s).addr),
  nonPublicRange: (s: string) => ip.nonPublicRange(cidr(s).addr)?.message ?? false,
  addressAt: (net: string, k: number) => {
    const a = ip.addressAt(cidr(net), k);
    return a === undefined ? false : ip.formatAddress(a);
  },
  offsetIn: (net: string, a: string) => ip.offsetIn(cidr(net), cidr(a).addr),
  checkInterfaceName: (s: string) => code(v.checkInterfaceName(s)),
  checkPeerName: (s: string) => code(v.checkPeerName(s)),
  checkPort: (n: number) => code(v.checkPort(n)),
  checkMtu: (n: number) => code(v.checkMtu(n)),
  checkKeepalive: (n: number) => code(v.checkKeepalive(n)),
  checkMetric: (n: number) => code(v.checkMetric(n)),
  checkKey: (s: string) => code(v.checkKey(s)),
  checkSubnet: (s: string) => code(v.checkSubnet(s)),
  subnetMessage: (s: string) => v.checkSubnet(s)?.message ?? false,
  // A problem as the plugin sends it: message, template and parameters.
  subnetText: (s: string) => {
    const p = v.checkSubnet(s);
    return p === undefined ? false : { code: p.code, message: p.message, msgid: p.msgid ?? false, params: p.params ?? false };
  },
  fill: (template: string, params: Record<string, string | number>) => fill(template, params),
  T: (msgid: string, params?: Record<string, string | number>) => {
    const t = T(msgid, params);
    return [t.message, t.msgid ?? false, t.params ?? false];
  },
  checkInterfaceAddress: (s: string, family: 4 | 6) => code(v.checkInterfaceAddress(s, family)),
  checkDnsServer: (s: string) => code(v.checkDnsServer(s)),
  checkHost: (s: string) => code(v.checkHost(s)),
  utf8Length: (s: string) => v.utf8Length(s),
  trimName: (s: string) => v.trimName(s),
  parseDestination: (s: string) => {
    const d = v.parseDestination(s);
    return "net" in d ? v.formatDestination(d) : d.code;
  },
  foldCase: (s: string) => v.foldCase(s),
  isValidText: (s: string) => v.isValidText(s),
  splitList: (x: string | string[]) => v.splitList(x),
  renderClientConfig: (c: ClientConfig) => renderClientConfig(c),
  configFileName: (name: string, fallback: string) => configFileName(name, fallback),
  // What the importer read: addresses, DNS, MTU, port, notes' lines, each peer; or the problem.
  parseWgQuick: (text: string) => {
    const { config: c, problem } = parseWgQuick(text);
    if (problem !== undefined) return `${problem.code}@${problem.line}`;
    return {
      addresses: c!.addresses.map((a) => ip.formatCidr(a.value)),
      dns: c!.dns,
      mtu: c!.mtu ?? false,
      port: c!.listenPort ?? false,
      notes: c!.notes.map((n) => n.line),
      peers: c!.peers.map((p) => [p.name ?? false, p.allowedIps.map((a) => ip.formatCidr(a.value)).join(" "), p.endpoint ? `${p.endpoint.value.host}|${p.endpoint.value.port}` : false, p.keepalive ?? false]),
    };
  },
};

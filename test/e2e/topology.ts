// The test network, all inside namespaces this run creates (names carry a random tag):
//
//   client ns (one per device)           router ns                        lanhost ns
//   eth0 203.0.113.1x/24 ── veth ── wan-cN ┐                     lan1 ── veth ── eth0 192.168.1.10/24
//                                          wan (bridge)          br-lan (bridge)   default via 192.168.1.1
//                                          203.0.113.1/24        <lan ipaddr from UCI>
//                                          ip_forward=1, the WireGuard interface from UCI
//
// 203.0.113.0/24 is TEST-NET-3; nothing is routed outside the namespaces.
import { addNamespace, cleanupAll, ipn, nsExec, randomTag } from "./sys";

export const WAN_PREFIX = "203.0.113";
export const ROUTER_WAN = `${WAN_PREFIX}.1`;
export const LANHOST = "192.168.1.10";

export class Topology {
  readonly tag = randomTag(5);
  readonly router = `wgmgr-e2e-${this.tag}-router`;
  readonly lanhost = `wgmgr-e2e-${this.tag}-lan`;
  private clients = 0;

  /** Router and LAN host; `lanCidr` is the router's LAN address ("192.168.1.1/24"). */
  build(lanCidr: string): void {
    const r = this.router;
    addNamespace(r);
    nsExec(r, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"]);
    // A bridge takes the lowest MAC address of its ports unless it has one of its own: a
    // device added later (a new client's veth) would change the router's MAC on that
    // network, and every neighbour with the old one in its ARP cache would lose the
    // router for up to half a minute (what made "PC still reaches the router" flaky).
    ipn(r, "link add wan address 02:00:00:00:00:01 type bridge");
    ipn(r, `address add ${ROUTER_WAN}/24 dev wan`);
    ipn(r, "link set wan up");
    ipn(r, "link add br-lan address 02:00:00:00:00:02 type bridge");
    ipn(r, `address add ${lanCidr} dev br-lan`);
    ipn(r, "link set br-lan up");

    addNamespace(this.lanhost);
    ipn(r, `link add lan1 type veth peer name eth0 netns ${this.lanhost}`);
    ipn(r, "link set lan1 master br-lan up");
    ipn(this.lanhost, `address add ${LANHOST}/${lanCidr.split("/")[1]} dev eth0`);
    ipn(this.lanhost, "link set eth0 up");
    ipn(this.lanhost, `route add default via ${lanCidr.split("/")[0]}`);
  }

  /** A new client namespace on the WAN bridge; returns its name and WAN address. */
  addClient(): { ns: string; wan: string } {
    const n = ++this.clients;
    const ns = `wgmgr-e2e-${this.tag}-c${n}`;
    const wan = `${WAN_PREFIX}.${10 + n}`;
    addNamespace(ns);
    ipn(this.router, `link add wan-c${n} type veth peer name eth0 netns ${ns}`);
    ipn(this.router, `link set wan-c${n} master wan up`);
    ipn(ns, `address add ${wan}/24 dev eth0`);
    ipn(ns, "link set eth0 up");
    return { ns, wan };
  }

  cleanup(): void {
    cleanupAll();
  }
}

/** Pings `addr` from `ns` once (1 s wait); true when a reply came back. */
export function pingOnce(ns: string, addr: string): boolean {
  return nsExec(ns, ["ping", "-n", "-q", "-c", "1", "-W", "1", addr], { allowFail: true }).ok;
}

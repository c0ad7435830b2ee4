// Bad input, for every method: missing, ill-typed and hostile arguments each get a
// structured error ({error, message, field}) and leave every config file byte-identical.
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { TestRouter } from "../lib/router";

let r: TestRouter;
let before: Record<string, string>;

beforeAll(() => {
  r = new TestRouter();
  // A configured router with one peer and one route, so every method has something to hit.
  expect(r.call("setup", { listen_port: 8890, address: "192.168.100.1/24" }).error).toBeUndefined();
  expect(r.call("add_peer", { name: "iPhone" }).error).toBeUndefined();
  expect(r.call("add_route", { target: "192.168.200.0/24" }).error).toBeUndefined();
  before = r.snapshot();
});
afterAll(() => r.cleanup());

const HUGE = "A".repeat(100_000);
/** A relay's wg-quick file that import accepts, so each case fails only on what it changes. */
const RELAY_FILE =
  "[Interface]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nAddress = 10.70.0.2/16\n\n" +
  "[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\nAllowedIPs = 10.70.0.0/16\nEndpoint = 203.0.113.50:51820\n";
const INJECT = ["wg0'; reboot; '", "$(reboot)", "`reboot`", "wg0\nconfig interface 'evil'", "../../etc/passwd", "wg0\u0000x"];
const WRONG_TYPES = [42, true, [], {}, ["a", 1], -1, 1e300];

type Case = [method: string, args: unknown, field?: string];

const cases: Case[] = [
  // setup
  ["setup", { address: "192.168.100.1/32" }, "address"],
  ["setup", { address: "192.168.100.1" }, "address"],
  ["setup", { address: "10.0.0.1/0" }, "address"],
  ["setup", { address: "192.168.1.77/24" }, "address"], // overlaps the LAN
  ["setup", { interface: "wg1" }, "address"], // a new interface needs an address
  ["setup", { listen_port: 0 }, "listen_port"],
  ["setup", { listen_port: 70000 }, "listen_port"],
  ["setup", { listen_port: "80a" }, "listen_port"],
  ["setup", { listen_port: 51820.5 }, "listen_port"],
  ["setup", { mtu: 1279 }, "mtu"],
  ["setup", { mtu: 9001 }, "mtu"],
  ["setup", { zone: "dmz" }, "zone"],
  ["setup", { dns: ["192.168.1.1", "dns.google"] }, "dns"],
  ["setup", { dns: "1.1.1.1; reboot" }, "dns"],
  ["setup", { endpoint_host: "bad host" }, "endpoint_host"],
  ["setup", { address6: "fd00::1/128" }, "address6"],
  ["setup", { interface: "lan" }, "interface"], // exists and is not WireGuard
  ["setup", { interface: "wg-0", address: "192.168.50.1/24" }, "interface"],
  ["setup", { interface: "averyveryverylongname", address: "192.168.50.1/24" }, "interface"],
  // add_peer
  ["add_peer", {}, "name"],
  ["add_peer", { name: "" }, "name"],
  ["add_peer", { name: "a\nb" }, "name"],
  ["add_peer", { name: "x".repeat(65) }, "name"],
  ["add_peer", { name: "p", interface: "wg9" }, "interface"],
  ["add_peer", { name: "p", public_key: "not-a-key" }, "public_key"],
  ["add_peer", { name: "p", public_key: "e++EP53PQnMQhMcJ0dJd9cvnGIl+gxJEx9a8EtSJuCv=" }, "public_key"],
  ["add_peer", { name: "p", keepalive: -5 }, "keepalive"],
  ["add_peer", { name: "p", keepalive: 70000 }, "keepalive"],
  ["add_peer", { name: "p", tunnel: "10.0.0.0/0" }, "tunnel"],
  ["add_peer", { name: "p", tunnel: [] }, "tunnel"],
  ["add_peer", { name: "p", tunnel: "everything" }, "tunnel"],
  ["add_peer", { name: "p", subnets: ["192.168.300.0/24"] }, "subnets"],
  ["add_peer", { name: "p", subnets: "192.168.5.1/24" }, "subnets"],
  ["add_peer", { name: "p", address: "10.1.1.1" }, "address"],
  ["add_peer", { name: "p", address: "not an ip" }, "address"],
  ["add_peer", { name: "p", preshared_key: "yes please" }, "preshared_key"],
  ["add_peer", { name: "iPhone" }, "name"], // exists
  // update_peer
  ["update_peer", {}, "peer"],
  ["update_peer", { peer: "nobody" }, "peer"],
  ["update_peer", { peer: "iPhone", address: "192.168.100.1" }, "address"],
  ["update_peer", { peer: "iPhone", enabled: "maybe" }, "enabled"],
  ["update_peer", { peer: "iPhone", subnets: ["0.0.0.0/0"] }, "subnets"],
  ["update_peer", { peer: "iPhone", keepalive: "soon" }, "keepalive"],
  // remove_peer / peer_config
  ["remove_peer", {}, "peer"],
  ["remove_peer", { peer: "nobody" }, "peer"],
  ["peer_config", { peer: "nobody" }, "peer"],
  ["peer_config", {}, "peer"],
  // routes
  ["add_route", {}, "target"],
  ["add_route", { target: "192.168.200.0/24" }, "target"], // exists
  ["add_route", { target: "10.0.0.0/0" }, "target"],
  ["add_route", { target: "192.168.7.0/24", gateway: "gw" }, "gateway"],
  ["add_route", { target: "192.168.7.0/24", gateway: "fd00::1" }, "gateway"],
  ["add_route", { target: "192.168.7.0/24", metric: -1 }, "metric"],
  ["remove_route", {}, "route"],
  ["remove_route", { route: "wgmgr_wg0_route7" }, "route"],
  // reads and the rest
  ["get", { interface: "wg7" }, "interface"],
  ["status", { interface: "wg7" }, "interface"],
  ["sync", { interface: "wg7" }, "interface"],
  ["teardown", { interface: "wg7" }, "interface"],
  ["defaults", { interface: "wg 0" }, "interface"],
];

// Every string argument of every method (as `list` declares them: an example that is a
// string or a list of strings) with hostile strings, and every argument with wrong types.
const SIGNATURES: Record<string, Record<string, unknown>> = (() => {
  const probe = new TestRouter();
  try {
    return probe.list();
  } finally {
    probe.cleanup();
  }
})();
const STRING_ARGS: Record<string, string[]> = Object.fromEntries(
  Object.entries(SIGNATURES).map(([method, sig]) => [
    method,
    Object.keys(sig).filter((a) => typeof sig[a] === "string" || (Array.isArray(sig[a]) && typeof (sig[a] as unknown[])[0] === "string")),
  ]),
);
const BASE: Record<string, Record<string, unknown>> = {
  add_peer: { name: "new" },
  update_peer: { peer: "iPhone" },
  remove_peer: { peer: "iPhone" },
  peer_config: { peer: "iPhone" },
  add_route: { target: "192.168.9.0/24" },
  remove_route: { route: "wgmgr_wg0_route1" },
  import: { interface: "wg1", config: RELAY_FILE },
};

// A name a method does not know is refused, naming it (a typo must not pass silently).
for (const method of Object.keys(SIGNATURES)) cases.push([method, { ...BASE[method], bogus_argument: 1 }, "bogus_argument"]);
cases.push(["setup", { listenport: 9999 }, "listenport"], ["add_peer", { name: "x", endpoint: "1.2.3.4:51820" }, "endpoint"]);

// Text that is not UTF-8: raw bytes, and a lone surrogate escaped in JSON, in every string argument.
const withBytes = (base: Record<string, unknown>, field: string, list: boolean): Buffer => {
  const head = JSON.stringify({ ...base, [field]: list ? ["@"] : "@" });
  const [before, after] = head.split("@");
  return Buffer.concat([Buffer.from(before), Buffer.from([0x78, 0xff, 0xfe, 0x78]), Buffer.from(after)]);
};
for (const [method, fields] of Object.entries(STRING_ARGS)) {
  for (const field of fields) {
    const list = Array.isArray(SIGNATURES[method][field]);
    cases.push([method, withBytes(BASE[method] ?? {}, field, list), field]);
    cases.push([method, JSON.stringify({ ...BASE[method], [field]: list ? ["x\ud800"] : "x\ud800" }), field]);
  }
}
for (const [method, fields] of Object.entries(STRING_ARGS)) {
  for (const field of fields) {
    // "name" is free text: hostile-looking names are legal and tested elsewhere.
    const hostile = field === "name" ? [HUGE] : [...INJECT, HUGE];
    for (const value of hostile) cases.push([method, { ...BASE[method], [field]: value }, field]);
    for (const value of WRONG_TYPES) {
      if (field === "dns" || field === "subnets" || field === "tunnel") {
        if (Array.isArray(value) && value.every((v) => typeof v === "string")) continue; // [] is a legal empty list for some
      }
      cases.push([method, { ...BASE[method], [field]: value }, field]);
    }
  }
}
for (const [method, field] of [
  ["setup", "listen_port"], ["setup", "mtu"], ["add_peer", "keepalive"], ["add_peer", "keep_private_key"], ["add_route", "metric"],
] as const) {
  for (const value of ["x", [], {}, "1; reboot", HUGE]) cases.push([method, { ...BASE[method], [field]: value }, field]);
}

describe("every bad argument gets a structured error and changes nothing", () => {
  const label = (a: unknown): string => (Buffer.isBuffer(a) ? a.toString("latin1") : typeof a === "string" ? a : JSON.stringify(a)).slice(0, 80);
  test.each(cases.map((c, i) => [i, c[0], label(c[1]), c] as const))("#%i %s %s", (_i, method, _label, c) => {
    const [, args, field] = c;
    const reply = r.call(method, args);
    expect(typeof reply.error, JSON.stringify(reply).slice(0, 300)).toBe("string");
    expect(reply.error).not.toBe("INTERNAL");
    expect(typeof reply.message).toBe("string");
    expect(reply.message.length).toBeGreaterThan(10);
    // A problem inside a file names the file's line: "config:3".
    if (field !== undefined) expect(reply.field === field || reply.field?.startsWith(`${field}:`), `field ${reply.field}`).toBe(true);
    expect(JSON.stringify(reply)).not.toMatch(/stack traceback|\.lua:\d+/);
    expect(r.snapshot()).toEqual(before);
  });

  test("a body that is not JSON, too large, or nested too deep", () => {
    for (const body of ["{", "[1,2]", '"x"', "null", "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}", "{\"a\":1} trailing", "{\"a\": [null]}"]) {
      const reply = r.call("setup", body);
      expect(reply.error).toBe("INVALID_ARGUMENT");
    }
    expect(r.call("add_peer", JSON.stringify({ name: "x", pad: "y".repeat(300_000) })).error).toBe("INVALID_ARGUMENT");
    expect(r.snapshot()).toEqual(before);
  });
});

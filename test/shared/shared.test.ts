// The address math, validation and config rendering are written once (luasrc/common)
// and compiled twice: bundled into the LuCI views (JS) and into the plugin (Lua 5.1).
// Every vector here runs through both builds and must give the expected answer in each.
import { execFileSync } from "node:child_process";
import { beforeAll, describe, expect, test } from "vitest";
import { REPO } from "../lib/router";
import { FUNCTIONS } from "./functions";

type Vector = [name: string, args: unknown[], expected: unknown];

const KEY = "e++EP53PQnMQhMcJ0dJd9cvnGIl+gxJEx9a8EtSJuCY=";

const VECTORS: Vector[] = [
  // The user's name is the file (and tunnel) name, in any language; only what file systems forbid goes.
  ["configFileName", ["iPhone 15 Pro Max!", "wg0_p1"], "iPhone 15 Pro Max!.conf"],
  ["configFileName", ["家里", "wg0_peer1"], "家里.conf"],
  ["configFileName", ["张三的 iPad", "wg0_peer2"], "张三的 iPad.conf"],
  ["configFileName", ['a/b\\c:d*e?f"g<h>i|j', "wg0_p3"], "abcdefghij.conf"],
  ["configFileName", [" ..Laptop.. ", "wg0_p4"], "Laptop.conf"],
  ["configFileName", ["/:*?", "wg0_p5"], "wg0_p5.conf"],
  ["trimName", ["  iPhone \u3000"], "iPhone"],
  ["trimName", ["\u00a0张三 \t"], "张三"],
  ["trimName", ["   "], ""],
  ["trimName", ["a b"], "a b"],
  ["foldCase", ["iPhone ÉCOLE 张三"], "iphone École 张三"],
  ["isValidText", ["héllo 张三 🙂"], true],
  ["checkPeerName", ["张三的手机"], false],
  ["checkPeerName", ["   "], "INVALID_NAME"],
  ["checkPeerName", ["evil\u202egpj.exe"], "INVALID_NAME"],
  ["checkPeerName", ["a\u2066b"], "INVALID_NAME"],
  ["checkPeerName", ["line\u2028break"], "INVALID_NAME"],
  ["checkPeerName", ["c1\u0085control"], "INVALID_NAME"],
  ["checkPeerName", ["tab\there"], "INVALID_NAME"],
  ["checkInterfaceAddress", ["2001:db8:1::1/64", 6], false],
  ["checkInterfaceAddress", ["ff02::1/64", 6], "INVALID_ADDRESS"],
  ["checkInterfaceAddress", ["fe80::1/64", 6], "INVALID_ADDRESS"],
  ["checkInterfaceAddress", ["::ffff:192.168.1.1/120", 6], "INVALID_ADDRESS"],
  ["checkInterfaceAddress", ["::1/64", 6], "INVALID_ADDRESS"],
  ["parseAddress", ["192.168.1.1"], "192.168.1.1"],
  ["parseAddress", ["0.0.0.0"], "0.0.0.0"],
  ["parseAddress", ["255.255.255.255"], "255.255.255.255"],
  ["parseAddress", ["256.1.1.1"], false],
  ["parseAddress", ["192.168.01.1"], false], // leading zero: octal or decimal? refuse
  ["parseAddress", ["192.168.1"], false],
  ["parseAddress", ["1.2.3.4.5"], false],
  ["parseAddress", [" 1.2.3.4"], false],
  ["parseAddress", ["fd00:0:0:0:0:0:0:1"], "fd00::1"],
  ["parseAddress", ["FD00::ABCD"], "fd00::abcd"],
  ["parseAddress", ["::"], "::"],
  ["parseAddress", ["::1"], "::1"],
  ["parseAddress", ["2001:db8:0:0:1:0:0:1"], "2001:db8::1:0:0:1"],
  ["parseAddress", ["::ffff:192.0.2.1"], "::ffff:c000:201"],
  ["parseAddress", ["1::2::3"], false],
  ["parseAddress", ["12345::1"], false],
  ["parseAddress", ["fe80::1%eth0"], false],
  ["parseCidr", ["10.0.0.0/8", false], "10.0.0.0/8"],
  ["parseCidr", ["10.0.0.1", false], false],
  ["parseCidr", ["10.0.0.1", true], "10.0.0.1/32"],
  ["parseCidr", ["10.0.0.0/33", false], false],
  ["parseCidr", ["10.0.0.0/08", false], false],
  ["parseCidr", ["fd00::/129", false], false],
  ["parseCidr", ["fd00::1/64", false], "fd00::1/64"],
  ["networkOf", ["192.168.1.77/24"], "192.168.1.0/24"],
  ["networkOf", ["192.168.1.77/27"], "192.168.1.64/27"],
  ["networkOf", ["fd00:1:2:3:4::1/64"], "fd00:1:2:3::/64"],
  ["networkOf", ["fd00:1:2:3:4::1/50"], "fd00:1:2::/50"],
  ["overlaps", ["10.0.0.0/8", "10.1.2.0/24"], true],
  ["overlaps", ["10.1.2.0/24", "10.0.0.0/8"], true],
  ["overlaps", ["10.0.0.0/24", "10.0.1.0/24"], false],
  ["overlaps", ["0.0.0.0/0", "192.168.1.1"], true],
  ["overlaps", ["::/0", "192.168.1.1"], false],
  ["contains", ["192.168.100.0/24", "192.168.100.254"], true],
  ["contains", ["192.168.100.0/24", "192.168.101.1"], false],
  ["suggestedPrefix", ["192.168.10.0"], 24],
  ["suggestedPrefix", ["10.0.0.0"], 8],
  ["suggestedPrefix", ["172.16.0.0"], 16],
  ["suggestedPrefix", ["fd00:100::"], 32],
  ["nonPublicRange", ["100.72.3.4"], "100.64.0.0/10 (carrier-grade NAT)"],
  ["nonPublicRange", ["192.168.0.20"], "192.168.0.0/16 (a private network)"],
  ["nonPublicRange", ["172.31.255.1"], "172.16.0.0/12 (a private network)"],
  ["nonPublicRange", ["172.32.0.1"], false],
  ["nonPublicRange", ["203.0.113.7"], false],
  ["nonPublicRange", ["fd00::1"], false],
  ["addressAt", ["192.168.100.0/24", 2], "192.168.100.2"],
  ["addressAt", ["192.168.100.0/24", 256], false],
  ["addressAt", ["10.0.0.0/16", 300], "10.0.1.44"],
  ["addressAt", ["fd00:100::/64", 2], "fd00:100::2"],
  ["offsetIn", ["10.0.0.0/16", "10.0.1.44"], 300],
  ["offsetIn", ["fd00:100::/64", "fd00:100::1:0"], 65536],
  ["checkInterfaceName", ["wg0"], false],
  ["checkInterfaceName", ["wg-0"], "INVALID_NAME"],
  ["checkInterfaceName", ["wg.0"], "INVALID_NAME"],
  ["checkInterfaceName", ["abcdefghijkl"], "INVALID_NAME"],
  ["checkInterfaceName", [""], "INVALID_NAME"],
  ["checkInterfaceName", ["wg0; rm -rf /"], "INVALID_NAME"],
  ["checkPeerName", ["iPhone"], false],
  ["checkPeerName", ["家里的路由器"], false],
  ["checkPeerName", ["it's \"quoted\""], false],
  ["checkPeerName", ["two\nlines"], "INVALID_NAME"],
  ["checkPeerName", [""], "INVALID_NAME"],
  ["checkPeerName", ["x".repeat(65)], "INVALID_NAME"],
  ["checkPeerName", ["家".repeat(21)], false], // 63 bytes: fits the 64-byte limit
  ["checkPeerName", ["家".repeat(22)], "INVALID_NAME"],
  ["utf8Length", ["家里"], 6],
  ["utf8Length", ["é"], 2],
  ["utf8Length", ["😀"], 4],
  ["checkPort", [51820], false],
  ["checkPort", [0], "INVALID_PORT"],
  ["checkPort", [65536], "INVALID_PORT"],
  ["checkPort", [80.5], "INVALID_PORT"],
  ["checkMtu", [1280], false],
  ["checkMtu", [9000], false],
  ["checkMtu", [1279], "INVALID_MTU"],
  ["checkMtu", [9001], "INVALID_MTU"],
  ["checkMetric", [0], false],
  ["checkMetric", [2147483647], false],
  ["checkMetric", [2147483648], "INVALID_ARGUMENT"],
  ["checkMetric", [-1], "INVALID_ARGUMENT"],
  ["checkKeepalive", [0], false],
  ["checkKeepalive", [25], false],
  ["checkKeepalive", [-1], "INVALID_KEEPALIVE"],
  ["checkKeepalive", [65536], "INVALID_KEEPALIVE"],
  ["checkKey", [KEY], false],
  ["checkKey", [KEY.slice(0, 43)], "INVALID_KEY"],
  ["checkKey", [KEY.slice(0, 42) + "v="], "INVALID_KEY"], // 'v' carries bits beyond 32 bytes
  ["checkKey", [KEY.slice(0, 42) + "w="], false],
  ["checkKey", ["'; reboot; '" + "A".repeat(31) + "="], "INVALID_KEY"],
  ["checkSubnet", ["192.168.200.0/24"], false],
  ["checkSubnet", ["192.168.200.7"], false],
  ["checkSubnet", ["192.168.10.0/0"], "INVALID_PREFIX"],
  ["checkSubnet", ["10.0.0.0/0"], "INVALID_PREFIX"],
  ["checkSubnet", ["0.0.0.0/0"], false],
  ["checkSubnet", ["::/0"], false],
  ["checkSubnet", ["192.168.1.5/24"], "HOST_BITS_SET"],
  ["checkSubnet", ["192.168.1.0/24, 10.0.0.0/8"], "INVALID_ADDRESS"],
  ["checkSubnet", ["banana"], "INVALID_ADDRESS"],
  ["subnetMessage", ["192.168.1.5/24"], '"192.168.1.5/24" is an address inside a network, not the network itself: write 192.168.1.0/24.'],
  ["checkInterfaceAddress", ["192.168.100.1/24", 4], false],
  ["checkInterfaceAddress", ["192.168.100.0/24", 4], "INVALID_ADDRESS"],
  ["checkInterfaceAddress", ["192.168.100.255/24", 4], "INVALID_ADDRESS"],
  ["checkInterfaceAddress", ["192.168.100.1/32", 4], "INVALID_PREFIX"],
  ["checkInterfaceAddress", ["192.168.100.1/0", 4], "INVALID_PREFIX"],
  ["checkInterfaceAddress", ["192.168.100.1", 4], "INVALID_ADDRESS"],
  ["checkInterfaceAddress", ["fd00:100::1/64", 6], false],
  ["checkInterfaceAddress", ["fd00:100::1/64", 4], "INVALID_ADDRESS"],
  ["checkDnsServer", ["192.168.1.1"], false],
  ["checkDnsServer", ["2606:4700:4700::1111"], false],
  ["checkDnsServer", ["dns.google"], "INVALID_DNS"],
  ["checkHost", ["myhome.ddns.net"], false],
  ["checkHost", ["203.0.113.7"], false],
  ["checkHost", ["2001:db8::1"], false],
  ["checkHost", ["-bad.example"], "INVALID_HOST"],
  ["checkHost", ["a..b"], "INVALID_HOST"],
  ["checkHost", ["999.1.1.1"], "INVALID_HOST"],
  ["checkHost", ["host name"], "INVALID_HOST"],
  ["checkHost", ["$(reboot)"], "INVALID_HOST"],
  ["splitList", ["192.168.1.0/24, 10.0.0.0/8"], ["192.168.1.0/24", "10.0.0.0/8"]],
  ["splitList", [["1.1.1.1", "8.8.8.8 9.9.9.9"]], ["1.1.1.1", "8.8.8.8", "9.9.9.9"]],
  [
    "renderClientConfig",
    [
      {
        name: "iPhone",
        privateKey: KEY,
        addresses: ["192.168.100.2/32"],
        dns: ["192.168.1.1"],
        mtu: 1420,
        serverPublicKey: KEY,
        presharedKey: KEY,
        allowedIps: ["0.0.0.0/0", "::/0"],
        endpoint: "myhome.example.net:8890",
        keepalive: 25,
      },
    ],
    `# iPhone\n[Interface]\nPrivateKey = ${KEY}\nAddress = 192.168.100.2/32\nDNS = 192.168.1.1\nMTU = 1420\n\n[Peer]\nPublicKey = ${KEY}\nPresharedKey = ${KEY}\nAllowedIPs = 0.0.0.0/0, ::/0\nEndpoint = myhome.example.net:8890\nPersistentKeepalive = 25\n`,
  ],
];

let luaResults: unknown[] = [];

beforeAll(() => {
  execFileSync("npx", ["tstl", "-p", "test/shared/tsconfig.json"], { cwd: REPO, stdio: "pipe" });
  const input = JSON.stringify(VECTORS.map(([name, args]) => [name, ...args]));
  luaResults = JSON.parse(execFileSync("lua5.1", [`${REPO}/build/test-lua/shared-runner.lua`], { input, encoding: "utf8" }));
});

describe("shared code gives the same answers in JS and in Lua 5.1", () => {
  VECTORS.forEach(([name, args, expected], i) => {
    test(`${name}(${JSON.stringify(args).slice(1, -1).slice(0, 60)})`, () => {
      expect(FUNCTIONS[name](...args)).toEqual(expected);
      expect(luaResults[i]).toEqual(expected);
    });
  });
});

// Reads an .ipk the way opkg's deb_extract does (opkg-lede libbb/unarchive.c): gunzip
// the outer stream, walk its tar headers, and pick control.tar.gz and data.tar.gz by
// name, with or without a leading "./". Used by `make size` and by the package tests;
// written independently of build-ipk.mjs, so the tests check the writer rather than
// agree with it. Node built-ins only.
import { gunzipSync } from "node:zlib";

/**
 * Every member of an uncompressed tar, in archive order (GNU long names followed):
 * { name, type ("0" file, "5" dir, ...), mode, uid, gid, size, mtime, checksumOk, magic, uname, gname, data }.
 */
export function tarMembers(buf) {
  const out = [];
  let longName;
  let off = 0;
  while (off + 512 <= buf.length) {
    const h = buf.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const str = (at, len) => {
      const f = h.subarray(at, at + len);
      const nul = f.indexOf(0);
      return f.subarray(0, nul < 0 ? len : nul).toString("utf8");
    };
    const num = (at, len) => parseInt(str(at, len).trim() || "0", 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
    const size = num(124, 12);
    const type = String.fromCharCode(h[156] || 0x30);
    const data = Buffer.from(buf.subarray(off + 512, off + 512 + size));
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === "L") {
      longName = data.toString("utf8").replace(/\0+$/, "");
      continue;
    }
    out.push({
      name: longName ?? str(0, 100),
      type,
      mode: num(100, 8),
      uid: num(108, 8),
      gid: num(116, 8),
      size,
      mtime: num(136, 12),
      checksumOk: num(148, 8) === sum,
      magic: h.subarray(257, 265).toString("latin1"),
      uname: str(265, 32),
      gname: str(297, 32),
      data,
    });
    longName = undefined;
  }
  return out;
}

/** The package's outer members, control and data members, and the raw inner archives. */
export function readIpk(ipk) {
  const outer = tarMembers(gunzipSync(ipk));
  const find = (n) => {
    const m = outer.find((x) => x.name === n || x.name === `./${n}`);
    if (!m) throw new Error(`no ${n} in the package, not an ipk`);
    return m.data;
  };
  const controlGz = find("control.tar.gz");
  const dataGz = find("data.tar.gz");
  const dataTar = gunzipSync(dataGz);
  return { outer, control: tarMembers(gunzipSync(controlGz)), data: tarMembers(dataTar), controlGz, dataGz, dataTar };
}

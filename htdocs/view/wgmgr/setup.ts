// require: view dom ui wgmgr as wg
//
// Server setup: a guided form pre-filled from the backend's `defaults` (a free port
// and subnet, the public name or WAN address, the router's LAN address as DNS),
// with a live list of what the router will get. Save stages the change; Save &
// Apply stages and applies it through LuCI's apply-with-rollback.

import type { Failure, Reply, Wg } from "../../wgmgr";

declare const wg: Wg;
const {
  applyStaged, call, check, checkDnsServer, checkHost, checkInterfaceAddress, checkMtu, checkPort,
  clearErrors, formatCidr, input, networkOf, parseCidr, radioValue, radios, readonly, row,
  showError, splitList, staged, watchApply, wholeNumber
} = wg;

const IFACE = "wg0";
const FIELDS = ["listen_port", "address", "mtu", "endpoint_host", "dns"] as const;
type Values = Record<(typeof FIELDS)[number] | "zone", string>;

function initialValues(d: Reply): Values {
  const c: Reply = d.exists ? d.current || {} : d;
  const addrs: string[] = d.exists ? c.addresses || [] : [d.address];
  return {
    listen_port: String(c.listen_port ?? 51820),
    address: addrs.find((a) => a.indexOf(":") < 0) ?? "",
    mtu: c.mtu != null ? String(c.mtu) : "",
    zone: c.zone || "lan",
    endpoint_host: c.endpoint_host ?? "",
    dns: (c.dns || []).join(", "),
  };
}

/** The request for `setup`; throws a Failure naming the first bad field. */
function request(v: Values): Reply {
  const port = wholeNumber("listen_port", v.listen_port, checkPort);
  if (port === undefined) check("listen_port", checkPort(NaN));
  const address = v.address.trim();
  check("address", checkInterfaceAddress(address, 4));
  const mtu = wholeNumber("mtu", v.mtu, checkMtu);
  const host = v.endpoint_host.trim();
  if (host) check("endpoint_host", checkHost(host));
  const dns = splitList(v.dns);
  for (const d of dns) check("dns", checkDnsServer(d));
  return { interface: IFACE, listen_port: port, address, mtu, zone: v.zone, endpoint_host: host, dns };
}

/** What the router gets, from the values as typed so far ("…" for what is not valid yet). */
function preview(v: Values): HTMLElement {
  const port = checkPort(Number(v.listen_port)) ? "…" : v.listen_port;
  const c = parseCidr(v.address.trim(), false);
  const ok = c && !checkInterfaceAddress(v.address.trim(), 4);
  const host = v.endpoint_host.trim();
  const items = [
    _("Network interface %s (WireGuard) on UDP port %s, address %s%s.").format(IFACE, port, ok ? v.address.trim() : "…", v.mtu ? ", MTU " + v.mtu : ""),
    _("A route to %s through %s.").format(ok ? formatCidr(networkOf(c!)) : "…", IFACE),
    _("Firewall rule wgmgr_%s_handshake: accept UDP port %s from the Internet (WAN), so devices can connect.").format(IFACE, port),
    v.zone === "own"
      ? _("A firewall zone of its own (wgmgr_%s_zone) that may reach the LAN and the Internet.").format(IFACE)
      : _('%s joins the firewall zone "lan": devices in the tunnel reach your home network.').format(IFACE),
    host
      ? _("Devices connect to %s:%s and use DNS %s.").format(host, port, v.dns.trim() || "-")
      : _("No public address: devices would not know where to connect. Enter your DDNS name or WAN address."),
  ];
  return E("ul", {}, items.map((t) => E("li", {}, [t])));
}

// Set by render(): the form's save (stage) and reset, used by the page footer.
let save = (): Promise<boolean> => Promise.resolve(false);
let reset = (): void => undefined;

export default view.extend({
  load() {
    return call("defaults", { interface: IFACE });
  },

  render(d: Reply) {
    watchApply();
    const start = initialValues(d);
    const shown = E("div", { class: "wgmgr-preview" });
    const inputs: Record<string, HTMLInputElement> = {};
    const field = (name: (typeof FIELDS)[number], label: string, placeholder: string, help: string, type = "text"): HTMLElement => {
      const i = (inputs[name] = input(name, start[name], placeholder, type));
      i.addEventListener("input", () => update());
      return row(name, label, i, help);
    };
    const form = E("div", { class: "cbi-section wgmgr-setup" }, [
      field("listen_port", _("Port"), "51820", _("The UDP port the router listens on; 51820 is WireGuard's usual port."), "number"),
      field("address", _("Tunnel address"), "192.168.100.1/24", _("The router's address inside the tunnel and the tunnel's size (/24: up to 253 devices).")),
      field("mtu", _("MTU"), "1420", _("1420 suits most connections, 1412 PPPoE."), "number"),
      row(
        "zone",
        _("Firewall"),
        radios(
          "zone",
          start.zone,
          [
            ["lan", _("Join the LAN zone: devices are treated like home devices (simplest)")],
            ["own", _("A zone of its own, with its own firewall rules")],
          ],
          () => update(),
        ),
      ),
      field("endpoint_host", _("Public address"), "myhome.ddns.net", _("Where devices find the router on the Internet: your DDNS name, or the WAN address if it never changes.")),
      field("dns", _("DNS for devices"), "192.168.1.1", _("Usually the router's LAN address. Separate several with commas.")),
    ]);
    const values = (): Values => {
      const v = { zone: radioValue(form, "zone") || "lan" } as Values;
      for (const n of FIELDS) v[n] = inputs[n].value;
      return v;
    };
    const update = (): void => void dom.content(shown, preview(values()));
    if (readonly()) form.querySelectorAll("input").forEach((i) => ((i as HTMLInputElement).disabled = true));
    update();

    save = () => {
      clearErrors(form);
      let args: Reply;
      try {
        args = request(values());
      } catch (e) {
        showError(form, e as Failure);
        return Promise.resolve(false);
      }
      return call("setup", args).then(
        (r) => (staged(r), true),
        (e: Failure) => (showError(form, e), false),
      );
    };
    reset = () => {
      clearErrors(form);
      for (const n of FIELDS) inputs[n].value = start[n];
      (form.querySelector(`input[value="${start.zone}"]`) as HTMLInputElement).checked = true;
      update();
    };

    return E("div", {}, [
      E("h2", { name: "content" }, [_("WireGuard server")]),
      E("div", { class: "cbi-map-descr" }, [
        d.exists
          ? _("The server %s exists; its key stays the same when you change it, so devices keep working.").format(IFACE)
          : _("Set up the server once: check the suggestions, then press Save & Apply."),
      ]),
      // e.g. a WAN address behind carrier-grade NAT: no device could reach this router.
      ...(d.warnings || []).map((w: string) => E("div", { class: "alert-message warning wgmgr-warning" }, [w])),
      form,
      E("div", { class: "cbi-section" }, [E("h3", {}, [d.exists ? _("What the router has") : _("What will be created")]), shown]),
    ]);
  },

  handleSave() {
    return save();
  },
  handleSaveApply(ev: Event, mode?: string) {
    return save().then((ok) => {
      if (ok) applyStaged(ev, mode);
    });
  },
  handleReset() {
    reset();
  },
});

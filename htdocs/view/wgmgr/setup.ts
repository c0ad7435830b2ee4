// require: view dom ui wgmgr as wg
//
// Server setup: a guided form pre-filled from the backend's `defaults` (a free port
// and subnet, the public name or WAN address, the router's LAN address as DNS),
// with a live list of what the router will get. Save stages the change; Save &
// Apply stages and applies it through LuCI's apply-with-rollback.

import type { Failure, Reply, Wg } from "../../wgmgr";

declare const wg: Wg;
const {
  applyStaged, call, check, checkbox, checkDnsServer, checkHost, checkInterfaceAddress, checkMtu, checkPort,
  clearErrors, formatCidr, input, list, networkOf, page, parseCidr, radioValue, radios, readonly,
  row, say, showError, staged, watchApply, wholeNumber
} = wg;

const IFACE = "wg0";

/**
 * One parser per field, for both the request and the preview: the field's value for
 * `setup` from the trimmed text, or a thrown Failure naming the field.
 */
const PARSE = {
  listen_port: (t: string) => wholeNumber("listen_port", t, checkPort, true),
  address: (t: string) => (check("address", checkInterfaceAddress(t, 4)), parseCidr(t)!),
  // Empty: no IPv6 in the tunnel (and, for a server that had it, IPv6 removed).
  address6: (t: string) => (t ? (check("address6", checkInterfaceAddress(t, 6)), parseCidr(t)!) : undefined),
  mtu: (t: string) => wholeNumber("mtu", t, checkMtu),
  endpoint_host: (t: string) => (t && check("endpoint_host", checkHost(t)), t),
  dns: (t: string) => list("dns", t, checkDnsServer),
};
type Field = keyof typeof PARSE;
const FIELDS = Object.keys(PARSE) as Field[];
type Values = Record<Field | "zone" | "masquerade", string>;
type Parsed = { [F in Field]: ReturnType<(typeof PARSE)[F]> };

function initialValues(d: Reply): Values {
  const c: Reply = d.exists ? d.current || {} : d;
  const addrs: string[] = d.exists ? c.addresses || [] : [d.address, d.address6];
  const ofFamily = (family: number): string => addrs.find((a) => a && parseCidr(a, true)?.addr.family === family) ?? "";
  return {
    listen_port: String(c.listen_port ?? 51820),
    address: ofFamily(4),
    address6: ofFamily(6),
    mtu: c.mtu != null ? String(c.mtu) : "",
    zone: c.zone || "lan",
    endpoint_host: c.endpoint_host ?? "",
    dns: (c.dns || []).join(", "),
    masquerade: c.masquerade ? "1" : "",
  };
}

/** Every field parsed, in form order; the first that does not parse throws, or with `partial` is left out. */
function parse(v: Values, partial?: boolean): Partial<Parsed> {
  const p: Reply = {};
  for (const f of FIELDS) {
    try {
      p[f] = PARSE[f](v[f].trim());
    } catch (e) {
      if (!partial) throw e;
    }
  }
  return p;
}

/** The request for `setup`; throws a Failure naming the first bad field. */
function request(v: Values): Reply {
  const p = parse(v) as Parsed;
  return { ...p, interface: IFACE, address: formatCidr(p.address), address6: p.address6 ? formatCidr(p.address6) : "", zone: v.zone };
}

/** What the router gets, from the values as typed so far ("…" for a field that does not parse). */
function preview(v: Values): HTMLElement {
  const p = parse(v, true);
  const port = p.listen_port ?? "…";
  const c = p.address;
  const address = c ? formatCidr(c) : "…";
  const items = [
    v.mtu.trim()
      ? _("Network interface %s (WireGuard) on UDP port %s, address %s, MTU %s.").format(IFACE, port, address, p.mtu ?? "…")
      : _("Network interface %s (WireGuard) on UDP port %s, address %s.").format(IFACE, port, address),
    _("A route to %s through %s.").format(c ? formatCidr(networkOf(c)) : "…", IFACE),
    ...(v.address6.trim()
      ? [_("IPv6 in the tunnel: address %s, a route to %s; each device gets an IPv6 address too.").format(p.address6 ? formatCidr(p.address6) : "…", p.address6 ? formatCidr(networkOf(p.address6)) : "…")]
      : []),
    _("Firewall rule wgmgr_%s_handshake: accept UDP port %s from the Internet (WAN), so devices can connect.").format(IFACE, port),
    v.zone === "own"
      ? _("A firewall zone of its own (wgmgr_%s_zone) that may reach the LAN and the Internet.").format(IFACE)
      : _('%s joins the firewall zone "lan": devices in the tunnel reach your home network.').format(IFACE),
    ...(v.masquerade == "1" ? [_("Firewall nat wgmgr_%s_masq: traffic from the tunnel into the LAN gets this router's LAN address.").format(IFACE)] : []),
    v.endpoint_host.trim()
      ? _("Devices connect to %s:%s and use DNS %s.").format(p.endpoint_host ?? "…", port, p.dns ? p.dns.join(", ") || "-" : "…")
      : _("No public address: devices would not know where to connect. Enter your DDNS name or WAN address."),
  ];
  return E("ul", {}, items.map((t) => E("li", {}, [t])));
}

/** The form's save (stage) and reset, set by render() for the page footer. */
interface Form {
  save(): Promise<boolean>;
  reset(): void;
}

export default view.extend<Reply, Form>({
  load() {
    return call("defaults", { interface: IFACE });
  },

  render(d: Reply) {
    watchApply();
    const start = initialValues(d);
    const shown = E("div", { class: "wgmgr-preview" });
    const inputs: Record<string, HTMLInputElement> = {};
    const field = (name: Field, label: string, placeholder: string, help: string, type = "text"): HTMLElement => {
      const i = (inputs[name] = input(name, start[name], placeholder, type));
      i.addEventListener("input", () => update());
      return row(name, label, i, help);
    };
    const form = E("div", { class: "cbi-section wgmgr-setup" }, [
      field("listen_port", _("Port"), "51820", _("The UDP port the router listens on; 51820 is WireGuard's usual port."), "number"),
      field("address", _("Tunnel address"), "192.168.100.1/24", _("The router's address inside the tunnel and the tunnel's size (/24: up to 253 devices).")),
      field("address6", _("IPv6 tunnel address"), "fd00:100::1/64", _("Optional: the router's IPv6 address inside the tunnel, with its prefix (a ULA from your router's prefix is suggested). Empty: IPv4 only.")),
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
    // A side router (not the LAN's gateway): masquerade, or the return route on the main router.
    const masq = checkbox("masquerade", start.masquerade == "1");
    masq.addEventListener("change", () => update());
    const side: Reply | undefined = d.side_router;
    form.appendChild(
      row(
        "masquerade",
        _("Masquerade into the LAN"),
        masq,
        _("Needed when this router is not the LAN's gateway and the gateway has no route to the tunnel. LAN hosts then see this router instead of the device (their logs no longer show which device connected)."),
      ),
    );
    const sideNote = side
      ? E("div", { class: "alert-message notice wgmgr-side-router" }, [
          E("p", {}, [_("This router does not look like the LAN's gateway:")]),
          E("ul", {}, (side.reasons || []).map((r: Reply) => E("li", {}, [say(r)]))),
          E("p", {}, [_("LAN hosts answer devices in the tunnel through their gateway, which knows nothing of the tunnel. Either turn on masquerade below, or add this route on the LAN's gateway (the main router):")]),
          E("pre", { class: "wgmgr-return-route" }, [(side.return_routes || []).join("\n")]),
        ])
      : "";
    const values = (): Values => {
      const v = { zone: radioValue(form, "zone") || "lan", masquerade: masq.checked ? "1" : "" } as Values;
      for (const n of FIELDS) v[n] = inputs[n].value;
      return v;
    };
    const update = (): void => void dom.content(shown, preview(values()));
    if (readonly()) form.querySelectorAll("input").forEach((i) => ((i as HTMLInputElement).disabled = true));
    update();

    this.save = () => {
      clearErrors(form);
      let args: Reply;
      try {
        args = request(values());
      } catch (e) {
        showError(form, e as Failure);
        return Promise.resolve(false);
      }
      args.masquerade = masq.checked;
      return call("setup", args).then(
        (r) => (staged(r), true),
        (e: Failure) => (showError(form, e), false),
      );
    };
    this.reset = () => {
      clearErrors(form);
      for (const n of FIELDS) inputs[n].value = start[n];
      masq.checked = start.masquerade == "1";
      (form.querySelector(`input[value="${start.zone}"]`) as HTMLInputElement).checked = true;
      update();
    };

    return page(
      _("WireGuard server"),
      d.exists
        ? _("The server %s exists; its key stays the same when you change it, so devices keep working.").format(IFACE)
        : _("Set up the server once: check the suggestions, then press Save & Apply."),
      // e.g. a WAN address behind carrier-grade NAT: no device could reach this router.
      ...(d.warnings || []).map((w: Reply) => E("div", { class: "alert-message warning wgmgr-warning" }, [say(w)])),
      sideNote,
      form,
      E("div", { class: "cbi-section" }, [
        E("h3", {}, [d.exists ? _("What the router has") : _("What will be created")]),
        // The values shown include changes saved in this session but not applied yet.
        d.pending ? E("div", { class: "alert-message notice wgmgr-pending" }, [_("Pending: saved, but not applied to the router yet. Press Save & Apply to apply it.")]) : "",
        shown,
      ]),
    );
  },

  save: () => Promise.resolve(false),
  reset() {},

  handleSave() {
    return this.save();
  },
  handleSaveApply(ev: Event, mode?: string) {
    return this.save().then((ok) => {
      if (ok) applyStaged(ev, mode);
    });
  },
  handleReset() {
    this.reset();
  },
});

// require: view dom ui wgmgr as wg
//
// Peers: the devices of each interface. Add and edit happen in a dialog; every change
// is staged in the LuCI session and becomes active with Save & Apply. After adding,
// and on demand, the device's configuration is shown as a QR code, a .conf download
// and text to copy. A read-only user sees the list without any of the actions.

import type { Failure, Reply, Wg } from "../../wgmgr";

declare const wg: Wg;
const {
  applyStaged, badge, button, call, check, checkKeepalive, checkPeerName, checkbox, clearErrors,
  formatCidr, input, networkOf, networks, notSetUp, parseCidr, radioValue, radios,
  readonly, row, showConfig, showError, staged, watchApply, wholeNumber
} = wg;

function tunnelText(p: Reply): string {
  if (p.tunnel === "full") return _("All traffic");
  if (p.tunnel === "split") return _("Home network only");
  return _("Custom: %s").format((p.client_allowed_ips || []).join(", "));
}

/** The add (no `peer`) or edit dialog; `done` gets the backend's reply once the change is staged. */
function peerDialog(iface: Reply, lans: string[], peer: Reply | undefined, done: (r: Reply) => void): void {
  // get() reports tunnel "full", "split" or "custom" (then client_allowed_ips are the networks)
  const mode: string = !peer ? "full" : peer.tunnel === "full" || peer.tunnel === "split" ? peer.tunnel : "custom";
  const custom: string[] = mode === "custom" ? peer!.client_allowed_ips || [] : [];
  const customInput = input("custom", custom.join(", "), "192.168.0.0/16, 10.8.0.0/24");
  const customRow = row("custom", _("Networks to reach"), customInput, _("Separate several networks with commas."));
  customRow.style.display = mode === "custom" ? "" : "none";
  const splitNets = [...(iface.addresses || []).map((a: string) => {
    const c = parseCidr(a, false);
    return c ? formatCidr(networkOf(c)) : a;
  }), ...lans].join(", ");

  const name = input("name", peer?.name ?? "", _("for example iPhone"));
  const subnets = input("subnets", (peer?.subnets || []).join(", "), "192.168.200.0/24");
  const keepalive = input("keepalive", peer ? peer.keepalive : 25, "25", "number");
  const psk = checkbox("preshared_key", peer ? !!peer.preshared_key : true);
  const keep = checkbox("keep_private_key", true);

  const form = E("div", { class: "wgmgr-peer-form" }, [
    row("name", _("Name"), name),
    row(
      "tunnel",
      _("Send through the tunnel"),
      radios(
        "tunnel",
        mode,
        [
          ["full", _("All traffic (full tunnel): browse as if at home")],
          ["split", _("Only the home network (split tunnel): %s").format(splitNets)],
          ["custom", _("Custom networks")],
        ],
        (v) => (customRow.style.display = v === "custom" ? "" : "none"),
      ),
    ),
    customRow,
    row("subnets", _("Networks behind this device"), subnets, _("Optional: only for a router or a site whose LAN should be reachable. Leave empty for phones and laptops.")),
    row("keepalive", _("Keepalive"), keepalive, _("Seconds between keepalive packets; 25 keeps mobile connections open. 0 turns it off.")),
    row("preshared_key", _("Preshared key"), E("label", {}, [psk, " ", _("Add a preshared key (extra protection)")])),
    peer
      ? ""
      : row(
          "keep_private_key",
          _("Private key"),
          E("label", {}, [keep, " ", _("Keep the device's private key on the router")]),
          _("Needed to show the QR code again later. Turn it off to keep the key only on the device: the code is then shown once, now."),
        ),
  ]);

  const collect = (): Reply => {
    const args: Reply = { interface: iface.name };
    const nameVal = name.value.trim();
    check("name", checkPeerName(nameVal));
    const t = radioValue(form, "tunnel");
    const tunnel = t === "custom" ? networks("custom", customInput.value) : t;
    if (t === "custom" && !tunnel.length) throw { error: "NO_ALLOWED_IPS", message: _("Give at least one network, like 192.168.0.0/16."), field: "custom" };
    const nets = networks("subnets", subnets.value);
    const ka = wholeNumber("keepalive", keepalive.value, checkKeepalive);
    if (!peer) {
      Object.assign(args, { name: nameVal, tunnel, keepalive: ka, preshared_key: psk.checked, keep_private_key: keep.checked });
      if (nets.length) args.subnets = nets;
      return args;
    }
    // Only what changed.
    args.peer = peer.id;
    if (nameVal !== peer.name) args.name = nameVal;
    if (t !== mode || (t === "custom" && String(tunnel) !== String(custom))) args.tunnel = tunnel;
    if (nets.join() !== (peer.subnets || []).join()) args.subnets = nets;
    if (ka !== undefined && ka !== peer.keepalive) args.keepalive = ka;
    if (psk.checked !== !!peer.preshared_key) args.preshared_key = psk.checked;
    return args;
  };

  const save = (): Promise<void> | void => {
    clearErrors(form);
    let args: Reply;
    try {
      args = collect();
    } catch (e) {
      showError(form, e as Failure);
      return;
    }
    return call(peer ? "update_peer" : "add_peer", args).then(
      (r) => {
        ui.hideModal();
        done(r);
      },
      (e: Failure) => showError(form, e, { tunnel: tunnelField() }),
    );
  };
  const tunnelField = (): string => (radioValue(form, "tunnel") === "custom" ? "custom" : "tunnel");

  ui.showModal(peer ? _("Edit device") : _("Add a device"), [
    form,
    E("div", { class: "right" }, [
      button(_("Cancel"), "neutral", () => ui.hideModal()),
      " ",
      button(peer ? _("Save") : _("Add"), "positive important wgmgr-save", save),
    ]),
  ]);
  name.focus();
}

function confirmDelete(p: Reply, done: () => unknown): void {
  ui.showModal(_("Delete device"), [
    E("p", {}, [_("Delete %s? It can no longer connect once the change is applied.").format(p.name)]),
    E("div", { class: "right" }, [
      button(_("Cancel"), "neutral", () => ui.hideModal()),
      " ",
      button(_("Delete"), "negative important wgmgr-confirm-delete", () => {
        ui.hideModal();
        return done();
      }),
    ]),
  ]);
}

function report(e: Failure): void {
  ui.addNotification(null, E("p", {}, [e.message]), "error");
}

export default view.extend({
  load() {
    return call("get");
  },

  render(data: Reply) {
    watchApply();
    const ro = readonly();
    const body = E("div");

    const refresh = (): Promise<void> =>
      call("get").then((d) => {
        data = d;
        draw();
      }, report);
    const stage = (method: string, args: Reply): Promise<void> =>
      call(method, args).then((r) => {
        staged(r);
        return refresh();
      }, report);

    const peerRow = (iface: Reply, p: Reply): HTMLElement => {
      const actions = ro
        ? []
        : [
            button(_("Show config"), "action wgmgr-config", () =>
              call("peer_config", { interface: iface.name, peer: p.id }).then(
                (r) => showConfig(r.name, r.filename, r.config, r.warnings, r.private_key_kept !== false),
                report,
              ),
            ),
            " ",
            button(_("Edit"), "edit wgmgr-edit", () =>
              peerDialog(iface, data.lan_subnets || [], p, (r) => {
                staged(r);
                void refresh();
              }),
            ),
            " ",
            button(p.enabled ? _("Disable") : _("Enable"), "neutral wgmgr-toggle", () =>
              stage("update_peer", { interface: iface.name, peer: p.id, enabled: !p.enabled }),
            ),
            " ",
            button(_("Delete"), "remove wgmgr-delete", () => confirmDelete(p, () => stage("remove_peer", { interface: iface.name, peer: p.id }))),
          ];
      return E("tr", { class: "tr", "data-peer": p.id }, [
        E("td", { class: "td" }, [E("strong", {}, [p.name]), E("br"), E("small", {}, [(p.addresses || []).map((a: string) => a.replace(/\/(32|128)$/, "")).join(", ")])]),
        E("td", { class: "td" }, [tunnelText(p)]),
        E("td", { class: "td" }, [(p.subnets || []).join(", ") || "—"]),
        E("td", { class: "td" }, [p.keepalive ? _("%d s").format(p.keepalive) : _("off")]),
        E("td", { class: "td" }, [p.enabled ? badge(_("Enabled"), "ok") : badge(_("Disabled"), "off")]),
        ro ? "" : E("td", { class: "td right" }, actions),
      ]);
    };

    const section = (iface: Reply): HTMLElement => {
      const peers: Reply[] = iface.peers || [];
      const head = [_("Device"), _("Tunnel"), _("Networks behind"), _("Keepalive"), _("State")];
      if (!ro) head.push("");
      return E("div", { class: "cbi-section", "data-interface": iface.name }, [
        E("h3", {}, [_("Devices on %s").format(iface.name)]),
        ro
          ? ""
          : E("div", { class: "cbi-section-create" }, [
              button(_("Add a device"), "add wgmgr-add", () =>
                peerDialog(iface, data.lan_subnets || [], undefined, (r) => {
                  staged(r, false); // the warnings go into the dialog
                  const p = r.peer || {};
                  showConfig(p.name, r.filename, r.config, r.warnings);
                  void refresh();
                }),
              ),
            ]),
        peers.length
          ? E("table", { class: "table cbi-section-table wgmgr-peer-table" }, [
              E("tr", { class: "tr table-titles" }, head.map((h) => E("th", { class: "th" }, [h]))),
              ...peers.map((p) => peerRow(iface, p)),
            ])
          : E("p", {}, [E("em", {}, [_("No devices yet.")])]),
      ]);
    };

    const draw = (): void => {
      const list: Reply[] = data.interfaces || [];
      dom.content(body, list.length ? list.map(section) : notSetUp());
    };
    draw();

    return E("div", {}, [
      E("h2", { name: "content" }, [_("WireGuard devices")]),
      E("div", { class: "cbi-map-descr" }, [
        _("Phones, laptops and sites that may connect. Changes are collected until you press Save & Apply."),
      ]),
      body,
    ]);
  },

  handleSaveApply(ev: Event, mode?: string) {
    return applyStaged(ev, mode);
  },
  handleSave: null,
  handleReset: null,
});

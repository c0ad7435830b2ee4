// require: view ui wgmgr as wg
//
// Peers: the devices of each interface. Add and edit happen in a dialog; every change
// is staged in the LuCI session and becomes active with Save & Apply. After adding,
// and on demand, the device's configuration is shown as a QR code, a .conf download
// and text to copy. A read-only user sees the list without any of the actions.

import type { Failure, Reply, Stage, Wg } from "../../wgmgr";

declare const wg: Wg;
const {
  badge, button, call, check, checkKeepalive, checkPeerName, checkbox, clearErrors, failure, formatAddress,
  input, list, listView, maxPrefix, parseCidr, parseDestination, radioValue, radios, readonly, report, row,
  showConfig, showError, table, wholeNumber
} = wg;

/** A device's access in words, as the Devices list shows it. */
function accessText(p: Reply): string {
  if (p.access === "internet") return _("Internet only");
  if (p.access === "router") return _("Only the router");
  if (p.access === "custom") return _("Only %s").format((p.access_to || []).join(", "));
  return _("Home network and Internet");
}

/** The destinations typed one per line, each checked by the plugin's own reader. */
function destinations(text: string): string[] {
  const out = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  for (const d of out) {
    const r = parseDestination(d);
    if (!("net" in r)) throw failure(r, "access");
  }
  if (!out.length) throw { error: "INVALID_ACCESS", message: _("Give at least one destination, one per line."), field: "access" } as Failure;
  return out;
}

function tunnelText(p: Reply): string {
  if (p.tunnel === "full") return _("All traffic");
  if (p.tunnel === "split") return _("Home network only");
  return _("Custom: %s").format((p.client_allowed_ips || []).join(", "));
}

/** A device's address as people write it: without /32 or /128 when it is a single address. */
function host(a: string): string {
  const c = parseCidr(a);
  return c && c.prefix === maxPrefix(c.addr.family) ? formatAddress(c.addr) : a;
}

/** The add (no `peer`) or edit dialog; the change is staged with `stage`. After an add, the new device's configuration is shown. */
function peerDialog(iface: Reply, peer: Reply | undefined, stage: Stage): void {
  // get() reports tunnel "full", "split" or "custom" (then client_allowed_ips are the networks)
  const mode: string = !peer ? "full" : peer.tunnel === "full" || peer.tunnel === "split" ? peer.tunnel : "custom";
  const custom: string[] = mode === "custom" ? peer!.client_allowed_ips || [] : [];
  const customInput = input("custom", custom.join(", "), "192.168.0.0/16, 10.8.0.0/24");
  const customRow = row("custom", _("Networks to reach"), customInput, _("Separate several networks with commas."));
  customRow.style.display = mode === "custom" ? "" : "none";

  const name = input("name", peer?.name ?? "", _("for example iPhone"));
  const subnets = input("subnets", (peer?.subnets || []).join(", "), "192.168.200.0/24");
  const keepalive = input("keepalive", peer ? peer.keepalive : 25, "25", "number");
  const psk = checkbox("preshared_key", peer ? !!peer.preshared_key : true);
  const keep = checkbox("keep_private_key", true);

  // Access: limiting a device needs the tunnel in a zone of its own (the LAN zone lets it reach everything).
  const accessMode: string = peer?.access ?? "lan";
  const ownZone = iface.zone === "own";
  const toInput = E("textarea", { id: "wgmgr-access_to", class: "cbi-input-textarea", rows: 3, placeholder: "192.168.1.5:445/tcp\n192.168.1.0/24:80,443/tcp" }, [(peer?.access_to || []).join("\n")]) as HTMLTextAreaElement;
  const toRow = row("access_to", _("Destinations"), toInput, _("One per line: a host or network, optionally with ports and tcp or udp."));
  toRow.style.display = accessMode === "custom" ? "" : "none";
  const accessChoice = radios(
    "access",
    accessMode,
    [
      ["lan", _("The home network and the Internet")],
      ["internet", _("Only the Internet, nothing on the home network")],
      ["router", _("Only the router")],
      ["custom", _("Only these destinations")],
    ],
    (v) => (toRow.style.display = v === "custom" ? "" : "none"),
  );
  if (!ownZone) accessChoice.querySelectorAll("input").forEach((i) => ((i as HTMLInputElement).disabled = (i as HTMLInputElement).value !== "lan"));

  const form = E("div", { class: "wgmgr-peer-form" }, [
    row("name", _("Name"), name),
    row(
      "access",
      _("May reach"),
      accessChoice,
      ownZone ? undefined : _("Limiting a device needs the tunnel in a firewall zone of its own: choose it on the Server page."),
    ),
    toRow,
    row(
      "tunnel",
      _("Send through the tunnel"),
      radios(
        "tunnel",
        mode,
        [
          ["full", _("All traffic (full tunnel): browse as if at home")],
          ["split", _("Only the home network (split tunnel): %s").format((iface.split_allowed_ips || []).join(", "))],
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
    const tunnel = t === "custom" ? list("custom", customInput.value) : t;
    const nets = list("subnets", subnets.value);
    const ka = wholeNumber("keepalive", keepalive.value, checkKeepalive);
    const am = radioValue(form, "access") || "lan";
    const access = am === "custom" ? destinations(toInput.value) : am;
    if (!peer) {
      Object.assign(args, { name: nameVal, tunnel, keepalive: ka, preshared_key: psk.checked, keep_private_key: keep.checked });
      if (nets.length) args.subnets = nets;
      if (am !== "lan") args.access = access;
      return args;
    }
    // Only what changed.
    args.peer = peer.id;
    if (nameVal !== peer.name) args.name = nameVal;
    if (t !== mode || (t === "custom" && String(tunnel) !== String(custom))) args.tunnel = tunnel;
    if (nets.join() !== (peer.subnets || []).join()) args.subnets = nets;
    if (ka !== undefined && ka !== peer.keepalive) args.keepalive = ka;
    if (psk.checked !== !!peer.preshared_key) args.preshared_key = psk.checked;
    if (am !== accessMode || (am === "custom" && String(access) !== String(peer.access_to || []))) args.access = access;
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
    // the backend's refusals of the tunnel (e.g. no networks) belong to the field in use
    const fail = (e: Failure): void =>
      showError(form, e, { tunnel: radioValue(form, "tunnel") === "custom" ? "custom" : "tunnel", access: radioValue(form, "access") === "custom" ? "access_to" : "access" });
    // after an add, the warnings go into the configuration dialog
    return stage(peer ? "update_peer" : "add_peer", args, fail, !!peer).then((r) => {
      if (!r) return;
      ui.hideModal();
      if (!peer) showConfig((r.peer || {}).name, r.filename, r.config, r.warnings);
    });
  };

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

/** A tunnel imported from a relay: its relays, which can be switched off and on, not edited. */
function relaySection(iface: Reply, stage: Stage): HTMLElement {
  const ro = readonly();
  const head = [_("Relay"), _("Endpoint"), _("Networks through it"), _("Keepalive"), _("State")];
  if (!ro) head.push("");
  return E("div", { class: "cbi-section", "data-interface": iface.name }, [
    E("h3", {}, [_("Relays of %s").format(iface.name)]),
    E("p", {}, [_("This tunnel was imported: the router dials out to these relays. To change them, import the relay's new file.")]),
    table(
      "wgmgr-relay-table",
      head,
      (iface.peers || []).map((p: Reply) =>
        E("tr", { class: "tr", "data-peer": p.id }, [
          E("td", { class: "td" }, [E("strong", {}, [p.name])]),
          E("td", { class: "td" }, [p.endpoint || "—"]),
          E("td", { class: "td" }, [(p.allowed_ips || []).join(", ")]),
          E("td", { class: "td" }, [p.keepalive ? _("%d s").format(p.keepalive) : _("off", "keepalive")]),
          E("td", { class: "td" }, [p.enabled ? badge(_("Enabled"), "ok") : badge(_("Disabled"), "off")]),
          ro
            ? ""
            : E("td", { class: "td right" }, [
                button(p.enabled ? _("Disable") : _("Enable"), "neutral wgmgr-toggle", () => stage("update_peer", { interface: iface.name, peer: p.id, enabled: !p.enabled })),
              ]),
        ]),
      ),
    ),
  ]);
}

function section(iface: Reply, stage: Stage): HTMLElement {
  if (iface.role == "client") return relaySection(iface, stage);
  const ro = readonly();
  const peers: Reply[] = iface.peers || [];
  const head = [_("Device"), _("May reach"), _("Tunnel"), _("Networks behind"), _("Keepalive"), _("State")];
  if (!ro) head.push("");

  const peerRow = (p: Reply): HTMLElement => {
    const target = { interface: iface.name, peer: p.id };
    const actions = ro
      ? ""
      : E("td", { class: "td right" }, [
          button(_("Show config"), "action wgmgr-config", () =>
            call("peer_config", target).then((r) => showConfig(r.name, r.filename, r.config, r.warnings, r.private_key_kept !== false), report),
          ),
          " ",
          button(_("Edit"), "edit wgmgr-edit", () => peerDialog(iface, p, stage)),
          " ",
          button(p.enabled ? _("Disable") : _("Enable"), "neutral wgmgr-toggle", () => stage("update_peer", { ...target, enabled: !p.enabled })),
          " ",
          button(_("Delete"), "remove wgmgr-delete", () => confirmDelete(p, () => stage("remove_peer", target))),
        ]);
    return E("tr", { class: "tr", "data-peer": p.id }, [
      E("td", { class: "td" }, [E("strong", {}, [p.name]), E("br"), E("small", {}, [(p.addresses || []).map(host).join(", ")])]),
      E("td", { class: "td wgmgr-access" }, [accessText(p)]),
      E("td", { class: "td" }, [tunnelText(p)]),
      E("td", { class: "td" }, [(p.subnets || []).join(", ") || "—"]),
      E("td", { class: "td" }, [p.keepalive ? _("%d s").format(p.keepalive) : _("off", "keepalive")]),
      E("td", { class: "td" }, [p.enabled ? badge(_("Enabled"), "ok") : badge(_("Disabled"), "off")]),
      actions,
    ]);
  };

  return E("div", { class: "cbi-section", "data-interface": iface.name }, [
    E("h3", {}, [_("Devices on %s").format(iface.name)]),
    ro ? "" : E("div", { class: "cbi-section-create" }, [button(_("Add a device"), "add wgmgr-add", () => peerDialog(iface, undefined, stage))]),
    peers.length ? table("wgmgr-peer-table", head, peers.map(peerRow)) : E("p", {}, [E("em", {}, [_("No devices yet.")])]),
  ]);
}

export default view.extend(
  listView(
    _("WireGuard devices"),
    // Someone who may only look collects no changes.
    (ro) => (ro ? _("Phones, laptops and sites that may connect.") : _("Phones, laptops and sites that may connect. Changes are collected until you press Save & Apply.")),
    section,
  ),
);

// require: view dom ui wgmgr as wg
//
// Import: the wg-quick file a relay, a VPS or a VPN provider handed out becomes a
// tunnel this router dials out on (S3a), in one step. The file is pasted or uploaded;
// the page reads it with the parser the plugin uses and shows what will be created (or
// the line that is wrong) before anything is saved. Save stages the change, Save &
// Apply applies it like every LuCI change.

import type { Failure, Reply, Wg } from "../../wgmgr";

declare const wg: Wg;
const {
  applyStaged, call, checkbox, clearErrors, formatCidr, input, isFullTunnel, page, parseWgQuick, radioValue, radios, readonly, row,
  say, showError, staged, watchApply
} = wg;

/** The first wgN that no interface has. */
function freeName(taken: string[]): string {
  for (let n = 1; ; n++) if (taken.indexOf("wg" + n) < 0) return "wg" + n;
}

/** What the router will get from the file and the choices, or the file's problem. */
function preview(text: string, iface: string, zone: string, defaultRoute: string, masquerade: boolean): HTMLElement {
  if (!text.trim()) return E("p", {}, [E("em", {}, [_("Paste the file or choose it above.")])]);
  const { config: c, problem } = parseWgQuick(text);
  if (problem || !c) return E("div", { class: "alert-message error wgmgr-file-error" }, [problem ? say(problem) : ""]);
  const items: string[] = [
    _("Interface %s (WireGuard) with the address %s: it dials out, so nothing has to be opened on the WAN.").format(
      iface,
      c.addresses.map((a) => formatCidr(a.value)).join(", "),
    ),
    ...c.peers.map((p) =>
      _("Relay %s at %s: the networks %s go through it.").format(
        p.name ?? "—",
        p.endpoint ? `${p.endpoint.value.host}:${p.endpoint.value.port}` : _("no endpoint"),
        p.allowedIps.map((a) => formatCidr(a.value)).join(", "),
      ),
    ),
    zone === "own"
      ? _("A firewall zone of its own (wgmgr_%s_zone) that may reach the LAN and the Internet.").format(iface)
      : _('%s joins the firewall zone "lan": hosts behind the relay reach your home network.').format(iface),
  ];
  if (isFullTunnel(c)) {
    items.push(
      defaultRoute == "tunnel"
        ? _("All traffic of the router and its LAN goes through the relay; the tunnel itself still uses the WAN.")
        : _("The file would take all traffic; this router keeps the WAN for the Internet and sends only the other networks through the relay."),
    );
  }
  if (c.dns.length) items.push(_("DNS %s is kept for reference; the router's own resolver does not change.").format(c.dns.join(", ")));
  if (masquerade) items.push(_("Traffic from the tunnel into the LAN is masqueraded (LAN hosts see this router)."));
  for (const n of c.notes) items.push(say(n.value));
  return E("ul", {}, items.map((t) => E("li", {}, [t])));
}

interface Form {
  save(): Promise<boolean>;
}

export default view.extend<Reply, Form>({
  load() {
    return call("get");
  },

  render(d: Reply) {
    watchApply();
    const name = input("interface", freeName((d.interfaces || []).map((i: Reply) => i.name)), "wg1");
    const text = E("textarea", { id: "wgmgr-config", class: "cbi-input-textarea", rows: 12, style: "width:100%;font-family:monospace", placeholder: "[Interface]\nPrivateKey = …\nAddress = …\n\n[Peer]\n…" }) as HTMLTextAreaElement;
    const file = E("input", { type: "file", id: "wgmgr-file", accept: ".conf,text/plain" }) as HTMLInputElement;
    const peer = input("name", "", _("optional, e.g. office relay"));
    const masq = checkbox("masquerade", false);
    const shown = E("div", { class: "wgmgr-preview" });
    const routeRow = E("div");
    const form = E("div", { class: "cbi-section wgmgr-import" }, [
      row("config", _("Configuration file"), E("div", {}, [file, text]), _("The wg-quick file the relay's owner gave you (.conf). Commands in it (PostUp and the like) are never run.")),
      row("interface", _("Interface"), name),
      row("name", _("Name of the relay"), peer, _("Shown in the overview; the file's own comment is used without it.")),
      row("zone", _("Firewall"), radios("zone", "lan", [
        ["lan", _("Join the LAN zone: hosts behind the relay are treated like home devices")],
        ["own", _("A zone of its own, with its own firewall rules")],
      ], () => update())),
      routeRow,
      row("masquerade", _("Masquerade into the LAN"), masq, _("For a router that is not the LAN's gateway: LAN hosts then answer through this router.")),
    ]);
    const routeChoice = row("default_route", _("All traffic"), radios("default_route", "keep", [
      ["keep", _("Keep the Internet on the WAN; only the file's other networks go through the relay")],
      ["tunnel", _("Send all traffic of the router and its LAN through the relay (needs a zone of its own)")],
    ], () => update()));
    const values = () => ({ zone: radioValue(form, "zone") || "lan", route: radioValue(form, "default_route") || "keep" });
    const update = (): void => {
      const parsed = parseWgQuick(text.value);
      const full = !!parsed.config && isFullTunnel(parsed.config);
      dom.content(routeRow, full ? routeChoice : []);
      const v = values();
      dom.content(shown, preview(text.value, name.value.trim(), v.zone, v.route, masq.checked));
    };
    for (const el of [text, name, masq]) el.addEventListener("input", update);
    masq.addEventListener("change", update);
    file.addEventListener("change", () => {
      const f = file.files && file.files[0];
      if (!f) return;
      f.text().then((t) => {
        text.value = t;
        update();
      });
    });
    if (readonly()) form.querySelectorAll("input, textarea").forEach((i) => ((i as HTMLInputElement).disabled = true));
    update();

    this.save = () => {
      clearErrors(form);
      const v = values();
      const parsed = parseWgQuick(text.value);
      const args: Reply = { interface: name.value.trim(), config: text.value, zone: v.zone, masquerade: masq.checked };
      if (peer.value.trim()) args.name = peer.value.trim();
      if (parsed.config && isFullTunnel(parsed.config)) args.default_route = v.route;
      return call("import", args).then(
        (r) => (staged(r), true),
        // A problem in the file ("config:12") is shown next to the file.
        (e: Failure) => (showError(form, { ...e, field: e.field && e.field.indexOf("config:") == 0 ? "config" : e.field }), false),
      );
    };

    return page(
      _("Import a tunnel"),
      _("Connect this router to a relay, a VPS or a VPN provider with the WireGuard file you were given."),
      form,
      E("div", { class: "cbi-section" }, [E("h3", {}, [_("What will be created")]), shown]),
    );
  },

  save: () => Promise.resolve(false),

  handleSave() {
    return this.save();
  },
  handleSaveApply(ev: Event, mode?: string) {
    return this.save().then((ok) => {
      if (ok) applyStaged(ev, mode);
    });
  },
  handleReset: null,
});

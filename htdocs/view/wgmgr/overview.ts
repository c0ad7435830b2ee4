// require: view dom poll wgmgr as wg
//
// Overview: every WireGuard interface and its peers, live. The table is refreshed
// through LuCI's poll loop and updated in place (one row per public key), so a
// router with hundreds of peers keeps a steady page.

import type { Reply, Wg } from "../../wgmgr";

declare const wg: Wg;
const {
  ago, badge, bytes, button, call, notSetUp, page, readonly, report, say, staged, sync, table, watchApply
} = wg;

const SEVERITY: Record<string, [string, "warn" | "off" | "ok"]> = {
  error: [_("Problem"), "warn"],
  warning: [_("Warning"), "warn"],
  info: [_("Note"), "off"],
};

/**
 * What diagnose finds on an interface, each finding with a Fix button when it has a fix:
 * the button makes the call the finding names through the session, so the fix is staged
 * and applied with Save & Apply like any change; the list is then checked again.
 */
function findingsPanel(name: string): HTMLElement {
  const panel = E("div", { class: "wgmgr-findings", "data-findings": name });
  const load = (): Promise<void> =>
    call("diagnose", { interface: name }).then((r) => {
      const list: Reply[] = r.findings || [];
      dom.content(
        panel,
        list.length
          ? [
              E("h4", {}, [_("Checks")]),
              E(
                "ul",
                { class: "wgmgr-findings-list" },
                list.map((f) =>
                  E("li", { "data-finding": f.id }, [
                    badge(...(SEVERITY[f.severity] || SEVERITY.info)),
                    " ",
                    say(f),
                    ...(f.fix && !readonly()
                      ? [" ", button(_("Fix"), "apply wgmgr-fix", () => call(f.fix.method, f.fix.args).then((res) => (staged(res), load()), report))]
                      : []),
                  ]),
                ),
              ),
            ]
          : E("p", { class: "wgmgr-findings-none" }, [badge(_("OK"), "ok"), " ", _("No problems found.")]),
      );
    }, report);
  void load();
  return panel;
}

const COLUMNS = [_("Device"), _("Status"), _("Latest handshake"), _("Endpoint"), _("Received"), _("Sent")];

/** Refills `node` with `build()` only when `sig` differs from what it shows: the poll leaves unchanged parts alone. */
function redraw(node: HTMLElement, sig: unknown[], build: () => unknown): void {
  const s = JSON.stringify(sig);
  if (node.dataset.sig !== s) {
    node.dataset.sig = s;
    dom.content(node, build());
  }
}

function statusBadge(p: Reply): HTMLElement {
  if (p.enabled === false) return badge(_("Disabled"), "off");
  return p.online ? badge(_("Online"), "ok") : badge(_("Offline"), "warn");
}

function cells(p: Reply, hs: string): HTMLElement[] {
  return [
    E("strong", {}, [p.name ?? _("Unknown device")]),
    statusBadge(p),
    hs,
    p.endpoint ?? "—",
    bytes(p.rx_bytes ?? 0),
    bytes(p.tx_bytes ?? 0),
  ].map((c) => E("td", { class: "td" }, [c]));
}

/** One interface: its summary line and a peer table whose rows are kept by public key. */
function interfaceSection(i: Reply, now: number): { node: HTMLElement; update(i: Reply, now: number): void } {
  const summary = E("p", { class: "wgmgr-summary" });
  const empty = E("p", { class: "wgmgr-nopeers" }, [
    _("No devices yet."),
    " ",
    E("a", { href: L.url("admin/services/wgmgr/peers") }, [_("Add a device")]),
  ]);
  const peers = table("wgmgr-peers", i.role == "client" ? [_("Relay"), ...COLUMNS.slice(1)] : COLUMNS);
  const rows = new Map<string, HTMLElement>();
  // netifd does not restart the tunnel for peer-only changes (e.g. applied from another
  // page): the backend says when the running peers differ from the saved ones.
  const stale = E("div");

  const update = (i: Reply, now: number): void => {
    const isStale = !!i.up && i.in_sync === false;
    redraw(stale, [isStale], () =>
      isStale
        ? E("div", { class: "alert-message warning wgmgr-stale" }, [
            _("The running tunnel does not match the saved devices yet."),
            " ",
            readonly() ? "" : button(_("Update the running tunnel"), "apply wgmgr-sync", () => sync(i.name)),
          ])
        : [],
    );
    redraw(summary, [i.up, i.role, i.listen_port, i.addresses, i.public_key], () => [
      i.up ? badge(_("Running"), "ok") : badge(_("Not running"), "warn"),
      " ",
      // A tunnel imported from a relay dials out; a server waits for its devices.
      i.role == "client" ? _("Dials out to its relay") : _("UDP port %s").format(i.listen_port ?? "—"),
      " · ",
      (i.addresses || []).join(", ") || "—",
      " · ",
      _("Public key: %s").format(i.public_key ?? "—"),
    ]);
    const seen = new Set<string>();
    for (const p of i.peers || []) {
      const key = p.public_key || p.id;
      seen.add(key);
      let tr = rows.get(key);
      if (!tr) {
        tr = E("tr", { class: "tr", "data-key": key });
        rows.set(key, tr);
      }
      const hs = p.latest_handshake > 0 ? ago(Math.max(0, now - p.latest_handshake)) : _("never", "latest handshake");
      redraw(tr, [p.name, p.enabled, p.online, hs, p.endpoint, p.rx_bytes, p.tx_bytes], () => cells(p, hs));
      if (!tr.parentNode) peers.appendChild(tr);
    }
    for (const [key, tr] of rows) {
      if (!seen.has(key)) {
        tr.remove();
        rows.delete(key);
      }
    }
    empty.style.display = rows.size ? "none" : "";
    peers.style.display = rows.size ? "" : "none";
  };

  update(i, now);
  const node = E("div", { class: "cbi-section", "data-interface": i.name }, [E("h3", {}, [i.name]), summary, stale, findingsPanel(i.name), peers, empty]);
  return { node, update };
}

export default view.extend({
  load() {
    return call("status");
  },

  render(status: Reply) {
    watchApply();
    const warning = E("div");
    const body = E("div", { class: "wgmgr-interfaces" });
    const sections = new Map<string, ReturnType<typeof interfaceSection>>();

    /** Brings the page up to date with a `status` reply: at the start and on every poll. */
    const draw = (s: Reply): void => {
      redraw(warning, [s.wg_available], () =>
        s.wg_available === false ? E("div", { class: "alert-message warning" }, [_("The wg command is missing: install wireguard-tools.")]) : [],
      );
      const list: Reply[] = s.interfaces || [];
      // no interface: the invitation to set up (the loops below then drop every section)
      redraw(body, [!list.length], () => (list.length ? [] : notSetUp()));
      const names = new Set(list.map((i) => i.name));
      for (const [name, sec] of sections) {
        if (!names.has(name)) {
          sec.node.remove();
          sections.delete(name);
        }
      }
      for (const i of list) {
        const sec = sections.get(i.name);
        if (sec) sec.update(i, s.time);
        else {
          const created = interfaceSection(i, s.time);
          sections.set(i.name, created);
          body.appendChild(created.node);
        }
      }
    };

    draw(status);
    poll.add(() => call("status").then(draw, () => undefined));

    return page(_("WireGuard"), _("The devices that connect to this router through WireGuard, refreshed every few seconds."), warning, body);
  },

  handleSaveApply: null,
  handleSave: null,
  handleReset: null,
});

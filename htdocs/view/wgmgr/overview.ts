// require: view dom poll wgmgr as wg
//
// Overview: every WireGuard interface and its peers, live. The table is refreshed
// through LuCI's poll loop and updated in place (one row per public key), so a
// router with hundreds of peers keeps a steady page.

import type { Reply, Wg } from "../../wgmgr";

declare const wg: Wg;
const {
  ago, badge, bytes, button, call, notSetUp, readonly, watchApply
} = wg;

const COLUMNS = [_("Device"), _("Status"), _("Latest handshake"), _("Endpoint"), _("Received"), _("Sent")];

function statusBadge(p: Reply): HTMLElement {
  if (p.enabled === false) return badge(_("Disabled"), "off");
  return p.online ? badge(_("Online"), "ok") : badge(_("Offline"), "warn");
}

function cells(p: Reply, hs: string): (string | Node)[] {
  return [
    E("strong", {}, [p.name ?? _("Unknown device")]),
    statusBadge(p),
    hs,
    p.endpoint ?? "—",
    bytes(p.rx_bytes ?? 0),
    bytes(p.tx_bytes ?? 0),
  ];
}

/** One interface: its summary line and a peer table whose rows are kept by public key. */
function interfaceSection(i: Reply, now: number): { node: HTMLElement; update(i: Reply, now: number): void } {
  const summary = E("p", { class: "wgmgr-summary" });
  const table = E("table", { class: "table cbi-section-table wgmgr-peers" }, [
    E("tr", { class: "tr table-titles" }, COLUMNS.map((c) => E("th", { class: "th" }, [c]))),
  ]);
  const empty = E("p", { class: "wgmgr-nopeers" }, [
    _("No devices yet. "),
    E("a", { href: L.url("admin/services/wgmgr/peers") }, [_("Add a device")]),
  ]);
  const rows = new Map<string, HTMLElement>();
  // netifd does not restart the tunnel for peer-only changes (e.g. applied from another
  // page): the backend says when the running peers differ from the saved ones.
  const stale = E("div");
  let staleShown = false;

  const update = (i: Reply, now: number): void => {
    const isStale = i.up && i.in_sync === false;
    if (isStale !== staleShown) {
      staleShown = isStale;
      dom.content(
        stale,
        isStale
          ? E("div", { class: "alert-message warning wgmgr-stale" }, [
              _("The running tunnel does not match the saved devices yet. "),
              readonly()
                ? ""
                : button(_("Update the running tunnel"), "apply wgmgr-sync", () =>
                    call("sync", { interface: i.name }).then(() => undefined, () => undefined),
                  ),
            ])
          : [],
      );
    }
    dom.content(summary, [
      i.up ? badge(_("Running"), "ok") : badge(_("Not running"), "warn"),
      " ",
      _("UDP port %s").format(i.listen_port ?? "—"),
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
      const hs = p.latest_handshake > 0 ? ago(Math.max(0, now - p.latest_handshake)) : _("never");
      const sig = JSON.stringify([p.name, p.enabled, p.online, hs, p.endpoint, p.rx_bytes, p.tx_bytes]);
      if (tr.dataset.sig !== sig) {
        tr.dataset.sig = sig;
        dom.content(tr, cells(p, hs).map((c) => E("td", { class: "td" }, [c])));
      }
      if (!tr.parentNode) table.appendChild(tr);
    }
    for (const [key, tr] of rows) {
      if (!seen.has(key)) {
        tr.remove();
        rows.delete(key);
      }
    }
    empty.style.display = rows.size ? "none" : "";
    table.style.display = rows.size ? "" : "none";
  };

  update(i, now);
  const node = E("div", { class: "cbi-section", "data-interface": i.name }, [E("h3", {}, [i.name]), summary, stale, table, empty]);
  return { node, update };
}

export default view.extend({
  load() {
    return call("status");
  },

  render(status: Reply) {
    watchApply();
    const body = E("div", { class: "wgmgr-interfaces" });
    const sections = new Map<string, ReturnType<typeof interfaceSection>>();

    const draw = (s: Reply): void => {
      const list: Reply[] = s.interfaces || [];
      if (!list.length) {
        sections.clear();
        dom.content(body, notSetUp());
        return;
      }
      if (!sections.size) dom.content(body, []);
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

    const warning = E("div");
    const showWarning = (s: Reply): void => {
      dom.content(
        warning,
        s.wg_available === false ? E("div", { class: "alert-message warning" }, [_("The wg command is missing: install wireguard-tools.")]) : [],
      );
    };

    draw(status);
    showWarning(status);
    poll.add(() =>
      call("status").then(
        (s) => {
          draw(s);
          showWarning(s);
        },
        () => undefined,
      ),
    );

    return E("div", {}, [
      E("h2", { name: "content" }, [_("WireGuard")]),
      E("div", { class: "cbi-map-descr" }, [_("The devices that connect to this router through WireGuard, refreshed every few seconds.")]),
      warning,
      body,
    ]);
  },

  handleSaveApply: null,
  handleSave: null,
  handleReset: null,
});

// require: view wgmgr as wg
//
// Routes: the static routes through the tunnel that wgmgr keeps in /etc/config/network,
// so they survive restarts (unlike `ip route add`). Adding and removing is staged in
// the LuCI session like every other change and applied with Save & Apply.

import type { Failure, Reply, Stage, Wg } from "../../wgmgr";

declare const wg: Wg;
const {
  button, check, checkIpAddress, checkMetric, checkSubnet, clearErrors, input, listView, readonly,
  row, say, showError, table, wholeNumber
} = wg;

function addForm(iface: Reply, stage: Stage): HTMLElement {
  const target = input("target", "", "192.168.200.0/24");
  const gateway = input("gateway", "", _("optional, e.g. 192.168.100.2"));
  const metric = input("metric", "", _("optional"), "number");
  const form = E("div", { class: "wgmgr-route-form" }, [
    row("target", _("Network"), target, _("The network to reach through the tunnel.")),
    row("gateway", _("Via"), gateway, _("The device in the tunnel that leads there; leave empty to route into the tunnel directly.")),
    row("metric", _("Metric"), metric),
  ]);
  const add = (): Promise<unknown> | void => {
    clearErrors(form);
    const args: Reply = { interface: iface.name };
    try {
      args.target = target.value.trim();
      check("target", checkSubnet(args.target));
      if (gateway.value.trim()) {
        args.gateway = gateway.value.trim();
        check("gateway", checkIpAddress(args.gateway));
      }
      const m = wholeNumber("metric", metric.value, checkMetric);
      if (m !== undefined) args.metric = m;
    } catch (e) {
      showError(form, e as Failure);
      return;
    }
    // No notifications: what is wrong with a route is shown next to it (the table row).
    return stage("add_route", args, (e) => showError(form, e, { route: "target", replace_default: "target" }), false);
  };
  form.appendChild(E("div", { class: "cbi-value" }, [E("div", { class: "cbi-value-field" }, [button(_("Add route"), "add wgmgr-add-route", add)])]));
  return form;
}

function section(iface: Reply, stage: Stage): HTMLElement {
  const ro = readonly();
  const routes: Reply[] = iface.routes || [];
  const head = [_("Network"), _("Via"), _("Metric")];
  if (!ro) head.push("");
  return E("div", { class: "cbi-section", "data-interface": iface.name }, [
    E("h3", {}, [_("Routes through %s").format(iface.name)]),
    routes.length
      ? table(
          "wgmgr-route-table",
          head,
          routes.flatMap((r) => [
            E("tr", { class: "tr", "data-route": r.id }, [
              E("td", { class: "td" }, [r.target]),
              E("td", { class: "td" }, [r.gateway || _("directly")]),
              E("td", { class: "td" }, [r.metric != null ? String(r.metric) : "—"]),
              ro
                ? ""
                : E("td", { class: "td right" }, [
                    button(_("Remove"), "remove wgmgr-remove-route", () => stage("remove_route", { interface: iface.name, route: r.id })),
                  ]),
            ]),
            ...(r.warnings || []).map((w: Reply) =>
              E("tr", { class: "tr wgmgr-route-warning", "data-route-warning": r.id }, [
                E("td", { class: "td", colspan: String(head.length) }, [E("div", { class: "alert-message warning" }, [say(w)])]),
              ]),
            ),
          ]),
        )
      : E("p", {}, [E("em", {}, [_("No routes yet. Networks behind a device are routed automatically; add one here only for networks reached through a gateway.")])]),
    ro ? "" : addForm(iface, stage),
  ]);
}

export default view.extend(listView(_("WireGuard routes"), _("Static routes through the tunnel that stay after every restart."), section));

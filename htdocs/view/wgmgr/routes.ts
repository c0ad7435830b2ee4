// require: view dom ui wgmgr as wg
//
// Routes: the static routes through the tunnel that wgmgr keeps in /etc/config/network,
// so they survive restarts (unlike `ip route add`). Adding and removing is staged in
// the LuCI session like every other change and applied with Save & Apply.

import type { Failure, Reply, Wg } from "../../wgmgr";

declare const wg: Wg;
const {
  applyStaged, button, call, check, checkIpAddress, checkSubnet, clearErrors, input, notSetUp,
  readonly, row, showError, staged, watchApply, wholeNumber
} = wg;

export default view.extend({
  load() {
    return call("get");
  },

  render(data: Reply) {
    watchApply();
    const ro = readonly();
    const body = E("div");
    const report = (e: Failure): void => void ui.addNotification(null, E("p", {}, [e.message]), "error");
    const refresh = (): Promise<void> =>
      call("get").then((d) => {
        data = d;
        draw();
      }, report);

    const addForm = (iface: Reply): HTMLElement => {
      const target = input("target", "", "192.168.200.0/24");
      const gateway = input("gateway", "", _("optional, e.g. 192.168.100.2"));
      const metric = input("metric", "", _("optional"), "number");
      const form = E("div", { class: "wgmgr-route-form" }, [
        row("target", _("Network"), target, _("The network to reach through the tunnel.")),
        row("gateway", _("Via"), gateway, _("The device in the tunnel that leads there; leave empty to route into the tunnel directly.")),
        row("metric", _("Metric"), metric),
      ]);
      const add = (): Promise<void> | void => {
        clearErrors(form);
        const args: Reply = { interface: iface.name };
        try {
          args.target = target.value.trim();
          check("target", checkSubnet(args.target));
          if (gateway.value.trim()) {
            args.gateway = gateway.value.trim();
            check("gateway", checkIpAddress(args.gateway));
          }
          const m = wholeNumber("metric", metric.value, (n) =>
            n >= 0 ? undefined : { code: "INVALID_ARGUMENT", message: _("The metric is a whole number from 0.") },
          );
          if (m !== undefined) args.metric = m;
        } catch (e) {
          showError(form, e as Failure);
          return;
        }
        return call("add_route", args).then(
          (r) => {
            staged(r);
            return refresh();
          },
          (e: Failure) => showError(form, e, { route: "target" }),
        );
      };
      form.appendChild(E("div", { class: "cbi-value" }, [E("div", { class: "cbi-value-field" }, [button(_("Add route"), "add wgmgr-add-route", add)])]));
      return form;
    };

    const section = (iface: Reply): HTMLElement => {
      const routes: Reply[] = iface.routes || [];
      const head = [_("Network"), _("Via"), _("Metric")];
      if (!ro) head.push("");
      return E("div", { class: "cbi-section", "data-interface": iface.name }, [
        E("h3", {}, [_("Routes through %s").format(iface.name)]),
        routes.length
          ? E("table", { class: "table cbi-section-table wgmgr-route-table" }, [
              E("tr", { class: "tr table-titles" }, head.map((h) => E("th", { class: "th" }, [h]))),
              ...routes.map((r) =>
                E("tr", { class: "tr", "data-route": r.id }, [
                  E("td", { class: "td" }, [r.target]),
                  E("td", { class: "td" }, [r.gateway || _("directly")]),
                  E("td", { class: "td" }, [r.metric != null ? String(r.metric) : "—"]),
                  ro
                    ? ""
                    : E("td", { class: "td right" }, [
                        button(_("Remove"), "remove wgmgr-remove-route", () =>
                          call("remove_route", { interface: iface.name, route: r.id }).then((res) => {
                            staged(res);
                            return refresh();
                          }, report),
                        ),
                      ]),
                ]),
              ),
            ])
          : E("p", {}, [E("em", {}, [_("No routes yet. Networks behind a device are routed automatically; add one here only for networks reached through a gateway.")])]),
        ro ? "" : addForm(iface),
      ]);
    };

    const draw = (): void => {
      const list: Reply[] = data.interfaces || [];
      dom.content(body, list.length ? list.map(section) : notSetUp());
    };
    draw();

    return E("div", {}, [
      E("h2", { name: "content" }, [_("WireGuard routes")]),
      E("div", { class: "cbi-map-descr" }, [_("Static routes through the tunnel that stay after every restart.")]),
      body,
    ]);
  },

  handleSaveApply(ev: Event, mode?: string) {
    return applyStaged(ev, mode);
  },
  handleSave: null,
  handleReset: null,
});

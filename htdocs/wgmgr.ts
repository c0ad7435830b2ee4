// require: baseclass dom rpc ui
//
// What every wgmgr page shares, shipped once as the LuCI class module
// resources/wgmgr.js and loaded with 'require wgmgr as wg': the ubus calls, the
// input checks (the same TypeScript the rpcd plugin is compiled from), form rows
// that show an error next to the field it belongs to, the list pages' plumbing,
// the client configuration dialog (QR code, download, copy) and the sync that
// follows Save & Apply.

import { formatAddress, formatCidr, maxPrefix, networkOf, parseCidr } from "../luasrc/common/ip";
import { fill, type Params, type Text } from "../luasrc/common/text";
import { MISSING_PRIVATE_KEY } from "../luasrc/common/wgconf";
import { isFullTunnel, parseWgQuick } from "../luasrc/common/wgquick";
import {
  checkDnsServer,
  checkHost,
  checkInterfaceAddress,
  checkIpAddress,
  checkKeepalive,
  checkMetric,
  checkMtu,
  checkPeerName,
  checkPort,
  checkSubnet,
  parseDestination,
  type Problem,
  splitList,
} from "../luasrc/common/validate";

export type Reply = Record<string, any>;

/** A refusal, from the backend ({error, message, field, msgid, params}) or from a check in the page. */
export interface Failure extends Text {
  error: string;
  field?: string;
}

// LuCI's _() under another name: the templates of the plugin's messages are not
// literals here; scripts/i18n/extract.mjs finds them at their T() in luasrc/.
const translate = _;

/**
 * A message of the plugin or of a shared check in the user's language: its template
 * from LuCI's catalog, filled with its parameters. A message the catalog does not
 * know (a newer plugin) stays as the plugin wrote it, in English.
 */
function say(t: Text | Reply | string): string {
  if (typeof t === "string") return t;
  const params: Params = {};
  for (const name in t.params || {}) params[name] = typeof t.params[name] === "object" ? say(t.params[name]) : t.params[name];
  return fill(translate(t.msgid || t.message), params);
}

// ---- calls ------------------------------------------------------------------------------

/**
 * Words for a call that did not get an answer from wgmgr: a JSON-RPC error (uhttpd's
 * -32002 "Access denied"), a non-zero ubus status (rpc.js with `reject: true` says
 * "failed with ubus code N"), or a failed request.
 */
function transportFailure(e: unknown): Failure {
  const text = String(e instanceof Error ? e.message : e);
  if (/-32002|Access denied|ubus code 6\b/.test(text)) {
    return { error: "ACCESS_DENIED", message: _("You have read-only access: ask the router's administrator to make this change.") };
  }
  if (/timed out|timeout|ubus code 7\b/i.test(text)) {
    return { error: "TIMEOUT", message: _("The router took too long to answer. Please try again.") };
  }
  if (/ubus code \d/.test(text)) {
    return { error: "UBUS", message: _("The router could not run this (%s). Is luci-app-wgmgr completely installed?").format(text) };
  }
  return { error: "UNREACHABLE", message: _("The router did not answer (%s). Check the connection and try again.").format(text) };
}

/** One rpc.declare per method and parameter list, made on first use. */
const declared: Record<string, (...args: unknown[]) => Promise<Reply>> = {};

/**
 * Calls a wgmgr method; resolves with its reply, rejects with a Failure. `reject`
 * turns a non-zero ubus status into a rejection; `expect: { "": {} }` makes every
 * other reply an object (rpcd answers a method's `{}` with a bare status, [0]).
 */
function call(method: string, args: Record<string, unknown> = {}): Promise<Reply> {
  const names = Object.keys(args);
  const key = method + "(" + names;
  const fn = (declared[key] ||= rpc.declare<Reply>({ object: "wgmgr", method, params: names, expect: { "": {} }, reject: true }));
  return fn(...names.map((n) => args[n])).then(
    (reply) => {
      if (typeof reply.error == "string") throw reply;
      return reply;
    },
    (e: unknown) => {
      throw transportFailure(e);
    },
  );
}

/** True when the signed-in user may only look (menu node granted read, not write). */
function readonly(): boolean {
  return L.hasViewPermission() !== true;
}

// ---- after Save & Apply ---------------------------------------------------------------------
// ui.changes dispatches "uci-applied" once the router confirmed the apply, then reloads
// the page after apply_display seconds. netifd does not push peer-only changes into a
// running interface, so every interface is synced. A flag in sessionStorage survives
// that reload, so a sync cut short or failed (the failure is shown) is retried by the
// next page that loads.

const SYNC_FLAG = "wgmgr-sync-pending";

/** Shows a notification (an error unless `kind` says otherwise). */
function notify(text: string, kind = "error"): void {
  ui.addNotification(null, E("p", {}, [text]), kind);
}

/** Shows a failure as a notification, for actions that have no form to show it in. */
function report(e: Failure): void {
  notify(say(e));
}

/** Brings one interface's running tunnel up to date; a failure is shown and resolves false. */
function sync(name: string): Promise<boolean> {
  return call("sync", { interface: name }).then(
    () => true,
    (e: Failure) => (notify(_("The running tunnel %s was not updated: %s").format(name, say(e))), false),
  );
}

/** Syncs every interface; the flag stays set, for the next page to retry, unless all succeeded. */
function syncAll(): Promise<void> {
  sessionStorage.setItem(SYNC_FLAG, "1");
  return call("get")
    .then((r) => Promise.all((r.interfaces || []).map((i: Reply) => sync(i.name))))
    .then((ok) => {
      if (ok.indexOf(false) < 0) sessionStorage.removeItem(SYNC_FLAG);
    }, report);
}

let watching = false;

function watchApply(): void {
  if (watching || readonly()) return;
  watching = true;
  document.addEventListener("uci-applied", () => void syncAll());
  if (sessionStorage.getItem(SYNC_FLAG)) void syncAll();
}

/** The footer's Save & Apply for pages whose edits are already staged. */
function applyStaged(_ev: Event, mode?: string): void {
  ui.changes.apply(mode == "0" || mode == null);
}

/** After a staged change: refresh LuCI's "Unsaved Changes" indicator and show the warnings. */
function staged(reply: Reply, warn = true): void {
  void ui.changes.init();
  if (warn) for (const w of reply.warnings || []) notify(say(w), "warning");
}

// ---- pages ----------------------------------------------------------------------------------

/** A page: its title, the line that explains it, then `content`. */
function page(title: string, descr: string, ...content: (Node | string)[]): HTMLElement {
  return E("div", {}, [E("h2", { name: "content" }, [title]), E("div", { class: "cbi-map-descr" }, [descr]), ...content]);
}

/** A LuCI table: a header row of `head`, then `rows`. */
function table(cls: string, head: string[], rows: Node[] = []): HTMLElement {
  return E("table", { class: "table cbi-section-table " + cls }, [E("tr", { class: "tr table-titles" }, head.map((h) => E("th", { class: "th" }, [h]))), ...rows]);
}

/**
 * Makes a change on a list page: calls `method`, updates the "Unsaved Changes"
 * indicator (showing the reply's warnings when `warn`), redraws the page from a fresh
 * `get`, then resolves with the reply. A refusal goes to `fail` (by default a
 * notification) and resolves with nothing.
 */
export type Stage = (method: string, args: Reply, fail?: (e: Failure) => void, warn?: boolean) => Promise<Reply | void>;

/**
 * A list page (devices, routes): one `section` per interface of `get`, or the
 * invitation to set up when there is none; its edits are staged, so the footer has
 * only Save & Apply.
 */
function listView(title: string, descr: string | ((readonly: boolean) => string), section: (iface: Reply, stage: Stage) => Node) {
  return {
    load: () => call("get"),
    render(data: Reply): HTMLElement {
      watchApply();
      const body = E("div");
      const draw = (d: Reply): void => {
        const ifaces: Reply[] = d.interfaces || [];
        dom.content(body, ifaces.length ? ifaces.map((i) => section(i, stage)) : notSetUp());
      };
      const stage: Stage = (method, args, fail = report, warn = true) =>
        call(method, args).then((r) => {
          staged(r, warn);
          return call("get").then(draw, report).then(() => r);
        }, fail);
      draw(data);
      return page(title, typeof descr == "string" ? descr : descr(readonly()), body);
    },
    handleSaveApply: applyStaged,
    handleSave: null,
    handleReset: null,
  };
}

// ---- forms --------------------------------------------------------------------------------

function input(name: string, value: unknown, placeholder = "", type = "text"): HTMLInputElement {
  return E("input", {
    type,
    name,
    id: "wgmgr-" + name,
    class: type == "checkbox" ? "cbi-input-checkbox" : "cbi-input-text",
    value: value == null ? "" : String(value),
    placeholder,
  }) as HTMLInputElement;
}

function checkbox(name: string, checked: boolean): HTMLInputElement {
  const box = input(name, "1", "", "checkbox");
  box.checked = checked;
  return box;
}

/** A labelled radio group; `onChange` gets the chosen value. */
function radios(name: string, value: string, options: [string, string][], onChange?: (v: string) => void): HTMLElement {
  return E(
    "div",
    { class: "wgmgr-radios" },
    options.map(([v, label]) => {
      const r = E("input", { type: "radio", name, value: v, id: `wgmgr-${name}-${v}` }) as HTMLInputElement;
      r.checked = v === value;
      if (onChange) r.addEventListener("change", () => onChange(v));
      return E("label", { for: r.id, style: "display:block" }, [r, " ", label]);
    }),
  );
}

function radioValue(root: HTMLElement, name: string): string {
  const r = root.querySelector(`input[name="${name}"]:checked`) as HTMLInputElement | null;
  return r ? r.value : "";
}

/** A LuCI form row; `data-field` ties backend errors that name this field to it. */
function row(field: string, label: string, control: HTMLElement, help?: string): HTMLElement {
  const id = control.id || (control.querySelector("input") || {}).id;
  return E("div", { class: "cbi-value", "data-field": field }, [
    E("label", { class: "cbi-value-title", for: id || null }, [label]),
    E("div", { class: "cbi-value-field" }, [control, help ? E("div", { class: "cbi-value-description" }, [help]) : ""]),
  ]);
}

function clearErrors(root: HTMLElement): void {
  root.querySelectorAll(".wgmgr-error").forEach((e) => e.remove());
  root.querySelectorAll(".cbi-input-invalid").forEach((e) => e.classList.remove("cbi-input-invalid"));
}

/**
 * Shows a failure next to the field it names (or the first field of `aliases[field]`),
 * else at the top of the form. Unknown field names land at the top too.
 */
function showError(root: HTMLElement, f: Failure, aliases: Record<string, string> = {}): void {
  const name = f.field ? aliases[f.field] || f.field : "";
  const target = name ? (root.querySelector(`[data-field="${name}"] .cbi-value-field`) as HTMLElement | null) : null;
  const msg = E("div", { class: "wgmgr-error", role: "alert", style: "color:#c62828;font-weight:bold;margin-top:.3em" }, [say(f)]);
  if (target) {
    target.appendChild(msg);
    target.querySelectorAll("input").forEach((i) => i.classList.add("cbi-input-invalid"));
    const first = target.querySelector("input");
    if (first) first.focus();
  } else {
    msg.classList.add("alert-message", "error");
    root.insertBefore(msg, root.firstChild);
  }
}

/** Runs the shared checks; the first problem becomes a Failure for `field`. */
function check(field: string, problem: Problem | undefined): void {
  if (problem) throw failure(problem, field);
}

/** A problem a shared check found, as a Failure for `field`. */
function failure(problem: Problem, field: string): Failure {
  const { code, ...text } = problem;
  return { error: code, ...text, field };
}

/** A whole number typed into `field`, checked by `what`; empty gives undefined unless `required`. */
function wholeNumber(field: string, text: string, what: (n: number) => Problem | undefined, required = false): number | undefined {
  const t = text.trim();
  if (t === "" && !required) return undefined;
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  check(field, what(n));
  return n;
}

/** A list typed into `field` ("a, b c"), every entry checked by `what` (by default: a network). */
function list(field: string, text: string, what: (s: string) => Problem | undefined = checkSubnet): string[] {
  const l = splitList(text);
  for (const s of l) check(field, what(s));
  return l;
}

// ---- presentation -------------------------------------------------------------------------

// Each unit with its own N_() call: the plural forms (and where the number goes) are the language's.
const AGO: [number, (n: number) => string][] = [
  [86400, (n) => N_(n, "%d day ago", "%d days ago")],
  [3600, (n) => N_(n, "%d hour ago", "%d hours ago")],
  [60, (n) => N_(n, "%d minute ago", "%d minutes ago")],
  [1, (n) => N_(n, "%d second ago", "%d seconds ago")],
];

function ago(seconds: number): string {
  for (const [size, text] of AGO) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return text(n).format(n);
    }
  }
  return _("just now");
}

function bytes(n: number): string {
  const units = [_("%d B"), _("%.1f KiB"), _("%.1f MiB"), _("%.1f GiB"), _("%.1f TiB")];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return units[i].format(n);
}

function badge(text: string, kind: "ok" | "off" | "warn"): HTMLElement {
  const colors = { ok: "#2e7d32", off: "#757575", warn: "#e65100" };
  return E("span", { class: "label wgmgr-" + kind, style: `background:${colors[kind]};color:#fff;padding:.1em .5em;border-radius:3px` }, [text]);
}

function button(label: string, kind: string, onClick: (ev: Event) => unknown, attrs: Record<string, unknown> = {}): HTMLElement {
  return E("button", { class: "btn cbi-button cbi-button-" + kind, click: ui.createHandlerFn(null, onClick), ...attrs }, [label]);
}

/** The page shown when no WireGuard server exists yet. */
function notSetUp(): HTMLElement {
  return E("div", { class: "cbi-section wgmgr-empty" }, [
    E("h3", {}, [_("WireGuard is not set up yet")]),
    E("p", {}, [_("Set up the WireGuard server once; then add a device (phone, laptop) and scan its QR code.")]),
    readonly()
      ? E("p", {}, E("em", {}, [_("Ask the router's administrator to set it up.")]))
      : E("a", { class: "btn cbi-button cbi-button-action important", href: L.url("admin/services/wgmgr/setup") }, [_("Set up the server")]),
  ]);
}

// ---- client configuration ------------------------------------------------------------------

function download(filename: string, text: string): void {
  const a = E("a", { href: URL.createObjectURL(new Blob([text], { type: "text/plain" })), download: filename, style: "display:none" }) as HTMLAnchorElement;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(a.href);
    a.remove();
  }, 1000);
}

/** Copies text; navigator.clipboard needs HTTPS or localhost, LuCI is often plain HTTP. */
function copy(text: string): Promise<boolean> {
  const fallback = (): boolean => {
    const t = E("textarea", { style: "position:fixed;top:0;opacity:0" }) as HTMLTextAreaElement;
    t.value = text;
    document.body.appendChild(t);
    t.select();
    let ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    t.remove();
    return ok;
  };
  if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text).then(() => true, fallback);
  return Promise.resolve(fallback());
}

/** A client configuration with its comment in the user's language (the router writes it in English). */
function localizeConfig(text: string): string {
  return text.split(`# ${MISSING_PRIVATE_KEY.message}\n`).join(`# ${say(MISSING_PRIVATE_KEY)}\n`);
}

/**
 * The client configuration dialog: QR code for the WireGuard app, the .conf file and
 * the text. The QR code comes from LuCI's uqr module (OpenWrt 24.10+); without it
 * (23.05) the dialog offers the file and the text only. No QR code either for a
 * config without its private key (not kept on the router): a phone could not use it.
 */
function showConfig(name: string, filename: string, config: string, warnings: Text[] = [], withQr = true): void {
  const text = localizeConfig(config);
  const qr = E("div", { class: "wgmgr-qr", style: "text-align:center;margin:1em 0" }, E("em", { class: "spinning" }, [_("Drawing the QR code…")]));
  const hint = E("p");
  const pre = E("pre", { class: "wgmgr-conf", style: "display:none;white-space:pre-wrap;word-break:break-all;user-select:all" }, [text]);
  const toggle = button(_("Show text"), "neutral", () => {
    pre.style.display = pre.style.display ? "" : "none";
    toggle.textContent = pre.style.display ? _("Show text") : _("Hide text");
  });
  const copyBtn = button(_("Copy"), "action wgmgr-copy", () =>
    copy(text).then((ok) => {
      copyBtn.textContent = ok ? _("Copied") : _("Copy failed: select the text and copy it");
      if (!ok) pre.style.display = "";
    }),
  );
  ui.showModal(_("Client configuration"), [
    E("p", {}, [E("strong", {}, [name])]),
    ...warnings.map((w) => E("div", { class: "alert-message warning" }, [say(w)])),
    qr,
    hint,
    pre,
    E("div", { class: "right" }, [
      button(_("Download %s").format(filename), "action wgmgr-download", () => download(filename, text)),
      " ",
      copyBtn,
      " ",
      toggle,
      " ",
      button(_("Close"), "neutral wgmgr-close", () => ui.hideModal()),
    ]),
  ]);
  (withQr ? L.resolveDefault(L.require("uqr"), null) : Promise.resolve(null)).then((uqr: { renderSVG(t: string, o: object): string } | null) => {
    if (!uqr) {
      qr.textContent = withQr ? _("QR codes need LuCI from OpenWrt 24.10 or newer.") : "";
      hint.textContent = _("Import the file into the WireGuard app, or copy the text into a new tunnel. The device can connect once the change is applied (Save & Apply).");
      toggle.style.display = "none";
      pre.style.display = "";
      return;
    }
    hint.textContent = _("In the WireGuard app on the phone tap + and scan this code, or import the file on a computer. The device can connect once the change is applied (Save & Apply).");
    qr.innerHTML = uqr.renderSVG(text, { ecc: "M", border: 4, pixelSize: 1 });
    const svg = qr.firstElementChild as SVGSVGElement;
    const size = svg.getAttribute("width");
    svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
    svg.setAttribute("style", "width:100%;max-width:360px;height:auto;image-rendering:pixelated");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", _("QR code of the configuration"));
  });
}

const api = {
  call,
  readonly,
  report,
  sync,
  watchApply,
  applyStaged,
  staged,
  page,
  table,
  listView,
  input,
  checkbox,
  radios,
  radioValue,
  row,
  clearErrors,
  showError,
  check,
  failure,
  say,
  wholeNumber,
  list,
  ago,
  bytes,
  badge,
  button,
  notSetUp,
  showConfig,
  // the shared checks and address math (luasrc/common), for the pages
  checkPort,
  checkMtu,
  checkInterfaceAddress,
  checkHost,
  checkDnsServer,
  checkPeerName,
  checkKeepalive,
  checkMetric,
  checkIpAddress,
  checkSubnet,
  parseCidr,
  networkOf,
  formatCidr,
  formatAddress,
  maxPrefix,
  parseDestination,
  // the wg-quick parser of `import` (the import page's preview)
  parseWgQuick,
  isFullTunnel,
};

export type Wg = typeof api;

export default baseclass.extend(api);

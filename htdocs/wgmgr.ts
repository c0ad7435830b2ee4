// require: baseclass rpc ui
//
// What every wgmgr page shares, shipped once as the LuCI class module
// resources/wgmgr.js and loaded with 'require wgmgr as wg': the ubus calls, the
// input checks (the same TypeScript the rpcd plugin is compiled from), form rows
// that show an error next to the field it belongs to, the client configuration
// dialog (QR code, download, copy) and the sync that follows Save & Apply.

import { formatCidr, networkOf, parseCidr } from "../luasrc/common/ip";
import {
  checkDnsServer,
  checkHost,
  checkInterfaceAddress,
  checkIpAddress,
  checkKeepalive,
  checkMtu,
  checkPeerName,
  checkPort,
  checkSubnet,
  splitList,
} from "../luasrc/common/validate";

export type Reply = Record<string, any>;

/** A refusal, from the backend ({error, message, field}) or from a check in the page. */
export interface Failure {
  error: string;
  message: string;
  field?: string;
}

// ---- calls ------------------------------------------------------------------------------

function isFailure(e: unknown): e is Failure {
  return typeof e === "object" && e !== null && typeof (e as Failure).message === "string" && "error" in e;
}

/** Words for a call that did not get an answer from wgmgr (a ubus status or a failed request). */
function transportFailure(e: unknown): Failure {
  const text = String(e instanceof Error ? e.message : e);
  if (/-32002|Access denied|status 6\b/.test(text)) {
    return { error: "ACCESS_DENIED", message: _("You have read-only access: ask the router's administrator to make this change.") };
  }
  if (/timed out|timeout|status 7\b/i.test(text)) {
    return { error: "TIMEOUT", message: _("The router took too long to answer. Please try again.") };
  }
  if (/status \d/.test(text)) {
    return { error: "UBUS", message: _("The router could not run this (%s). Is luci-app-wgmgr completely installed?").format(text) };
  }
  return { error: "UNREACHABLE", message: _("The router did not answer (%s). Check the connection and try again.").format(text) };
}

/** Calls a wgmgr method; resolves with its reply, rejects with a Failure. */
function call(method: string, args: Record<string, unknown> = {}): Promise<Reply> {
  const names = Object.keys(args);
  const fn = rpc.declare({ object: "wgmgr", method, params: names });
  return fn(...names.map((n) => args[n])).then(
    (reply: unknown) => {
      if (typeof reply === "number") throw transportFailure("ubus status " + reply);
      if (typeof reply !== "object" || reply === null) return {};
      if (typeof (reply as Reply).error === "string") throw reply;
      return reply as Reply;
    },
    (e: unknown) => {
      throw isFailure(e) ? e : transportFailure(e);
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
// that reload, so a sync cut short is finished by the next page that loads.

const SYNC_FLAG = "wgmgr-sync-pending";

function syncAll(): Promise<void> {
  sessionStorage.setItem(SYNC_FLAG, "1");
  return call("get")
    .then((r) => Promise.all((r.interfaces || []).map((i: Reply) => call("sync", { interface: i.name }).catch(() => null))))
    .then(() => sessionStorage.removeItem(SYNC_FLAG))
    .catch(() => undefined);
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
function staged(reply: Reply, notify = true): void {
  void ui.changes.init();
  if (notify) for (const w of reply.warnings || []) ui.addNotification(null, E("p", {}, [String(w)]), "warning");
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
  const msg = E("div", { class: "wgmgr-error", role: "alert", style: "color:#c62828;font-weight:bold;margin-top:.3em" }, [f.message]);
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
function check(field: string, problem: { code: string; message: string } | undefined): void {
  if (problem) throw { error: problem.code, message: problem.message, field } as Failure;
}

function wholeNumber(field: string, text: string, what: (n: number) => { code: string; message: string } | undefined): number | undefined {
  const t = text.trim();
  if (t === "") return undefined;
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  check(field, what(n));
  return n;
}

function networks(field: string, text: string): string[] {
  const list = splitList(text);
  for (const s of list) check(field, checkSubnet(s));
  return list;
}

// ---- presentation -------------------------------------------------------------------------

function ago(seconds: number): string {
  const units: [number, string, string][] = [
    [86400, _("1 day ago"), _("%d days ago")],
    [3600, _("1 hour ago"), _("%d hours ago")],
    [60, _("1 minute ago"), _("%d minutes ago")],
    [1, _("1 second ago"), _("%d seconds ago")],
  ];
  for (const [size, one, many] of units) {
    if (seconds >= size) {
      const n = Math.floor(seconds / size);
      return n === 1 ? one : many.format(n);
    }
  }
  return _("just now");
}

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return (i ? n.toFixed(1) : String(n)) + " " + units[i];
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

/**
 * The client configuration dialog: QR code for the WireGuard app, the .conf file and
 * the text. The QR code comes from LuCI's uqr module (OpenWrt 24.10+); without it
 * (23.05) the dialog offers the file and the text only. No QR code either for a
 * config without its private key (not kept on the router): a phone could not use it.
 */
function showConfig(name: string, filename: string, text: string, warnings: string[] = [], withQr = true): void {
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
    ...warnings.map((w) => E("div", { class: "alert-message warning" }, [w])),
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
  const applied = _("The device can connect once the change is applied (Save & Apply).");
  (withQr ? L.resolveDefault(L.require("uqr"), null) : Promise.resolve(null)).then((uqr: { renderSVG(t: string, o: object): string } | null) => {
    if (!uqr) {
      qr.textContent = withQr ? _("QR codes need LuCI from OpenWrt 24.10 or newer.") : "";
      hint.textContent = _("Import the file into the WireGuard app, or copy the text into a new tunnel.") + " " + applied;
      toggle.style.display = "none";
      pre.style.display = "";
      return;
    }
    hint.textContent = _("In the WireGuard app on the phone tap + and scan this code, or import the file on a computer.") + " " + applied;
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
  watchApply,
  applyStaged,
  staged,
  input,
  checkbox,
  radios,
  radioValue,
  row,
  clearErrors,
  showError,
  check,
  wholeNumber,
  networks,
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
  checkIpAddress,
  checkSubnet,
  splitList,
  parseCidr,
  networkOf,
  formatCidr,
};

export type Wg = typeof api;

export default baseclass.extend(api);

// The LuCI runtime as the views see it: LuCI's loader passes the modules named in a
// view's 'require' directives as factory parameters, and L, E and _ are globals
// (platform.md §4). Module types come from @kuoruan/luci-types; the globals are
// declared here, with the few members the package lacks.
import type Rpc from "@kuoruan/luci-types/typings/rpc";
import type Poll from "@kuoruan/luci-types/typings/poll";
import type View from "@kuoruan/luci-types/typings/view";
import type Ui from "@kuoruan/luci-types/typings/ui";
import type BaseClass from "@kuoruan/luci-types/typings/baseclass";
import type Dom from "@kuoruan/luci-types/typings/dom";

declare global {
  const view: typeof View;
  const baseclass: typeof BaseClass;
  const rpc: typeof Rpc;
  const dom: typeof Dom;
  /** LuCI.poll; without an interval, L.env.pollinterval (5 s by default) is used. */
  const poll: Omit<typeof Poll, "add"> & { add(fn: () => unknown, interval?: number): boolean };
  const ui: typeof Ui & {
    changes: typeof Ui.changes & { init(): Promise<void> | void };
  };

  /** LuCI's global instance (only what wgmgr uses). */
  const L: {
    env: { sessionid?: string; [key: string]: unknown };
    url(...parts: string[]): string;
    require(name: string): Promise<any>;
    resolveDefault<T>(value: Promise<T>, def: T): Promise<T>;
    hasViewPermission(): boolean | null;
  };

  /** LuCI's dom.create(): E(tag, [attrs], [children]). */
  function E(html: string | Node | Node[], attr?: Record<string, unknown> | unknown[] | string | Node | null, data?: unknown): HTMLElement;
  /** LuCI's translation of `msgid` (in `context`), or `msgid` itself (cbi.js). */
  function _(msgid: string, context?: string): string;
  /** LuCI's translation of the plural form the catalog's Plural-Forms picks for `count`. */
  function N_(count: number, singular: string, plural: string, context?: string): string;

  interface String {
    /** LuCI's printf-style formatting (%s, %d, %h ...), from cbi.js. */
    format(...args: unknown[]): string;
  }
}

// Declarations for the C modules the plugin loads on the router. Only libuci's Lua
// binding (package libuci-lua) is used; JSON is handled by luasrc/json.ts.
// Methods take `this` because they are called as cursor:method(...).

/** @noSelfInFile */
declare module "uci" {
  type UciValue = string | string[];

  /** A section as returned by get_all/foreach: options plus .name/.type/.anonymous/.index. */
  interface UciSection {
    ".name": string;
    ".type": string;
    ".anonymous": boolean;
    ".index"?: number;
    [option: string]: UciValue | boolean | number | undefined;
  }

  interface Cursor {
    get(this: Cursor, config: string, section: string, option?: string): LuaMultiReturn<[UciValue | undefined, string | undefined]>;
    get_all(this: Cursor, config: string, section?: string): LuaMultiReturn<[Record<string, UciSection> | UciSection | undefined, string | undefined]>;
    foreach(this: Cursor, config: string, type: string | undefined, cb: (this: void, s: UciSection) => boolean | void): boolean;
    /** set(config, section, type) creates a named section; set(config, section, option, value) sets an option. */
    set(this: Cursor, config: string, section: string, optionOrType: string, value?: UciValue): LuaMultiReturn<[boolean, string | undefined]>;
    delete(this: Cursor, config: string, section: string, option?: string): LuaMultiReturn<[boolean, string | undefined]>;
    save(this: Cursor, config: string): LuaMultiReturn<[boolean, string | undefined]>;
    commit(this: Cursor, config: string): LuaMultiReturn<[boolean, string | undefined]>;
    revert(this: Cursor, config: string): LuaMultiReturn<[boolean, string | undefined]>;
    unload(this: Cursor, config: string): LuaMultiReturn<[boolean, string | undefined]>;
  }

  function cursor(confdir?: string, savedir?: string): Cursor;
}

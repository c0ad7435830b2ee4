// The UCI model: the sections of network, firewall and wgmgr, loaded once per call,
// and a transaction that records edits while keeping the in-memory copy current, so
// a planner sees its own earlier edits. Nothing here touches libuci except load().

import type { Cursor, UciSection, UciValue } from "uci";

export const CONFIGS = ["network", "firewall", "wgmgr"] as const;
export type ConfigName = (typeof CONFIGS)[number];

export interface Section {
  name: string;
  type: string;
  anonymous: boolean;
  options: Record<string, UciValue>;
}

/** One change to UCI; `type` is the section's type, so appliers know what a change touches. */
export type Edit =
  | { kind: "create"; config: ConfigName; section: string; type: string }
  | { kind: "set"; config: ConfigName; section: string; type: string; option: string; value: UciValue }
  | { kind: "unset"; config: ConfigName; section: string; type: string; option: string }
  | { kind: "remove"; config: ConfigName; section: string; type: string };

/** Options whose values never appear in replies. */
const SECRET_OPTIONS: Record<string, boolean> = { private_key: true, preshared_key: true };

export function loadSections(cursor: Cursor, config: ConfigName): Section[] {
  const out: Section[] = [];
  cursor.foreach(config, undefined, (s: UciSection) => {
    // The section table itself holds the options (its "."-keys are never read as
    // options), so nothing is copied: at 1000 peers that halves the model's memory.
    out.push({ name: s[".name"], type: s[".type"], anonymous: s[".anonymous"], options: s as unknown as Record<string, UciValue> });
  });
  return out;
}

export class Model {
  readonly edits: Edit[] = [];
  private readonly byName: Record<string, Record<string, Section>> = {};
  /** Values derived from the sections (see derived()), dropped at every edit. */
  private memo: Record<string, unknown> = {};

  constructor(private readonly configs: Record<ConfigName, Section[]>) {
    for (const c of CONFIGS) {
      const index: Record<string, Section> = {};
      for (const s of configs[c]) index[s.name] = s;
      this.byName[c] = index;
    }
  }

  static load(cursor: Cursor): Model {
    return new Model({
      network: loadSections(cursor, "network"),
      firewall: loadSections(cursor, "firewall"),
      wgmgr: loadSections(cursor, "wgmgr"),
    });
  }

  /**
   * A value computed from the sections once per state of the model: what every peer of a
   * reply needs (the sites' networks) is not recomputed a thousand times.
   */
  derived<T>(key: string, compute: () => T): T {
    if (!(key in this.memo)) this.memo[key] = compute();
    return this.memo[key] as T;
  }

  sections(config: ConfigName, type?: string): Section[] {
    if (type === undefined) return this.configs[config];
    return this.configs[config].filter((s) => s.type === type);
  }

  section(config: ConfigName, name: string): Section | undefined {
    return this.byName[config][name];
  }

  /** Creates a named section, or keeps it when it exists with the same type. */
  create(config: ConfigName, name: string, type: string): Section {
    const existing = this.section(config, name);
    if (existing !== undefined && existing.type === type) return existing;
    if (existing !== undefined) this.remove(config, name);
    const s: Section = { name, type, anonymous: false, options: {} };
    this.configs[config].push(s);
    this.byName[config][name] = s;
    this.edits.push({ kind: "create", config, section: name, type });
    this.memo = {};
    return s;
  }

  /** Sets an option; undefined, "" and [] delete it (as libuci does for ""). */
  set(config: ConfigName, name: string, option: string, value: UciValue | number | undefined): void {
    const s = this.section(config, name);
    if (s === undefined) throw `set on missing section ${config}.${name}`;
    const v = typeof value === "number" ? tostring(value) : value;
    if (v === undefined || v === "" || (typeof v === "object" && v.length === 0)) {
      if (s.options[option] === undefined) return;
      delete s.options[option];
      this.edits.push({ kind: "unset", config, section: name, type: s.type, option });
      this.memo = {};
      return;
    }
    if (sameValue(s.options[option], v)) return;
    s.options[option] = v;
    this.edits.push({ kind: "set", config, section: name, type: s.type, option, value: v });
    this.memo = {};
  }

  remove(config: ConfigName, name: string): void {
    const s = this.section(config, name);
    if (s === undefined) return;
    this.configs[config] = this.configs[config].filter((s) => s.name !== name);
    delete this.byName[config][name];
    this.edits.push({ kind: "remove", config, section: name, type: s.type });
    this.memo = {};
  }

  touched(config: ConfigName): boolean {
    return this.edits.some((e) => e.config === config);
  }

  /** The edits as a reply can show them, with key material hidden. */
  describeEdits(): string[] {
    return this.edits.map((e) => {
      const where = `${e.config}.${e.section}`;
      if (e.kind === "create") return `${where} created (${e.type})`;
      if (e.kind === "remove") return `${where} removed`;
      if (e.kind === "unset") return `${where}.${e.option} removed`;
      const shown = SECRET_OPTIONS[e.option] ? "(secret)" : typeof e.value === "string" ? e.value : e.value.join(" ");
      return `${where}.${e.option} = ${shown}`;
    });
  }
}

function sameValue(a: UciValue | undefined, b: UciValue): boolean {
  if (a === undefined) return false;
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---- typed readers -------------------------------------------------------

export function opt(s: Section | undefined, name: string): string | undefined {
  const v = s?.options[name];
  if (v === undefined) return undefined;
  return typeof v === "string" ? v : v[0];
}

export function list(s: Section | undefined, name: string): string[] {
  const v = s?.options[name];
  if (v === undefined) return [];
  return typeof v === "string" ? [v] : v;
}

export function flag(s: Section | undefined, name: string): boolean {
  const v = opt(s, name);
  return v === "1" || v === "true" || v === "yes" || v === "on";
}

export function num(s: Section | undefined, name: string): number | undefined {
  const v = opt(s, name);
  return v === undefined ? undefined : tonumber(v);
}

// Messages that can be shown in the user's language. The plugin answers in English
// (the shell API stays English) and, next to the English message, sends its template
// and parameters: the views look the template up in LuCI's catalog with _() and fill
// in the same parameters, so a Chinese router shows the message in Chinese.
//
// A template names its parameters in braces: "{subnet} is used by {interface}".
// Write every template as a string literal inside T(...): scripts/i18n/extract.mjs
// collects them into the .pot the way it collects the views' _() strings.

/** A parameter is a value, or a message of its own (translated with the one it is in). */
export type Params = { [name: string]: string | number | Text };

export interface Text {
  /** The English text, parameters filled in. */
  message: string;
  /** The template, only when it differs from `message` (it has parameters). */
  msgid?: string;
  params?: Params;
}

/** Fills {name} placeholders from params; an unknown name is left as it is. */
export function fill(template: string, params: Params | undefined): string {
  if (params === undefined) return template;
  let out = "";
  let from = 0;
  for (;;) {
    const open = template.indexOf("{", from);
    const close = open < 0 ? -1 : template.indexOf("}", open);
    if (close < 0) return out + template.substring(from);
    const value = params[template.substring(open + 1, close)];
    const text = value === undefined ? template.substring(open, close + 1) : typeof value === "object" ? value.message : String(value);
    out += template.substring(from, open) + text;
    from = close + 1;
  }
}

/** A translatable message: T("{name} is taken", { name }). */
export function T(msgid: string, params?: Params): Text {
  const message = fill(msgid, params);
  return message === msgid ? { message } : { message, msgid, params };
}

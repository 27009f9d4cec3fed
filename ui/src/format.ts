// What every view shares: finding its elements, and states and times as people read them.
import type { State } from "./bindings/State";

export const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
};

export const label: Record<State, string> = { focus: "Focus", coordination: "Coordination" };

/** A local time of day, "09:05" (or "9:05 AM", as the locale has it). */
export function clock(at: string, options: Intl.DateTimeFormatOptions = {}): string {
  return new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", ...options });
}

/** "25 min", "1 h 05 min". */
export function duration(seconds: number): string {
  const minutes = Math.floor(Math.max(0, seconds) / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** How long ago `since` was: "just now", "25 min", "1 h 05 min". */
export function elapsed(since: string): string {
  const seconds = (Date.now() - Date.parse(since)) / 1000;
  return seconds < 60 ? "just now" : duration(seconds);
}

/** Puts `text` into `element`, each `quoted` span as a `<code>` element: the app's sentences
 * name commands and settings that way (`weft toggle`). Text only, never markup. */
export function setWithCode(element: HTMLElement, text: string): void {
  element.replaceChildren(
    ...text.split("`").map((part, i) => {
      if (i % 2 === 0) return document.createTextNode(part);
      const code = document.createElement("code");
      code.textContent = part;
      return code;
    }),
  );
}

// The Settings view's start-at-login switch: `{cmd: "autostart"}` to the dispatcher, which
// writes or removes Weft's entry in the XDG autostart folder (the same as `weft autostart`).
import { control } from "./api.js";
import type { Autostart } from "./bindings/Autostart";
import { $ } from "./format.js";

function render(shown: Autostart): void {
  const box = $<HTMLInputElement>("autostart");
  box.checked = shown.on;
  box.disabled = shown.foreign;
  $("autostart-text").textContent = shown.foreign
    ? `${shown.file} was not written by Weft, so Weft leaves it alone. Remove it to manage start at login here.`
    : shown.on
      ? `Starts ${shown.binary ?? "weft-app"} (entry ${shown.file}).`
      : shown.binary
        ? `Would start ${shown.binary}.`
        : "No weft-app was found to start.";
}

function showError(message: string | null): void {
  const line = $("autostart-error");
  line.hidden = message === null;
  line.textContent = message ?? "";
}

/** Asks for start at login (`on` absent), or sets it, and shows the answer. */
async function autostart(on?: boolean): Promise<void> {
  const answer = await control(on === undefined ? { cmd: "autostart" } : { cmd: "autostart", on });
  if (answer.kind === "autostart") {
    showError(null);
    render(answer.data);
  } else if (answer.kind === "error") {
    showError(answer.data.message);
    // The switch shows what is on disk, not what was asked for.
    if (on !== undefined) await autostart();
  }
}

/** Wires the switch; called once when the window starts. */
export function setUpSettings(): void {
  const box = $<HTMLInputElement>("autostart");
  box.addEventListener("change", () => void autostart(box.checked).catch((e) => showError(String(e))));
}

/** Reads start at login again (the Settings view was shown). */
export async function refreshSettings(): Promise<void> {
  await autostart();
}

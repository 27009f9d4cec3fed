// The Weft window: the Now view (the state, one switch button, the Inbox and today's
// switches) and the routing between the views (Now, Today, Team, Settings).
import { control, onStatus } from "./api.js";
import { refreshToday, setUpToday } from "./today.js";
import { refreshTeam, setUpTeam } from "./team.js";
import { refreshSettings, setUpSettings } from "./settings.js";
import { $, clock, elapsed, label, setWithCode } from "./format.js";
import type { Status } from "./api.js";
import type { SwitchEntry } from "./bindings/SwitchEntry";
import type { InboxItem } from "./bindings/InboxItem";
import type { State } from "./bindings/State";
import type { DesktopPart } from "./bindings/DesktopPart";


let current: Status | null = null;
/** Status events rendered so far. The status has one reporter, the app's ordered event
 * stream; an answer read over another connection (the first `status`, a switch's answer) may
 * be older than an event already shown, so it is only used before any event arrived. */
let statusEvents = 0;



function render(status: Status): void {
  current = status;
  $("app").dataset.state = status.state;
  $("state").textContent = label[status.state];
  $("since").textContent = `since ${clock(status.since)} · ${elapsed(status.since)}`;
  const intent = $("intent");
  intent.hidden = !status.intent;
  intent.textContent = status.intent ?? "";
  const until = $("until");
  until.hidden = !(status.state === "focus" && status.until);
  until.textContent = status.until ? `planned until ${clock(status.until)}` : "";
  const stash = $("stash");
  stash.hidden = !(status.state === "focus" && status.stash);
  stash.textContent = status.stash ?? "";
  const other: State = status.state === "focus" ? "coordination" : "focus";
  $("switch").textContent = `Switch to ${label[other]}`;
  document.title = `Weft · ${label[status.state]}`;
  const degraded = $("degraded");
  const parts = status.degraded ?? [];
  degraded.hidden = parts.length === 0;
  degraded.textContent = parts.length
    ? `Running without ${parts.map((p) => partLabel[p]).join(", ")}: ${parts.includes("tray") ? "" : "the tray menu says why; "}see README › Troubleshooting.`
    : "";
  setWithCode(
    $("hotkey-text"),
    status.hotkey
      ? `${status.hotkey} switches between focus and coordination. It is the \`hotkey\` setting in config.toml; on Wayland your desktop decides the key, in its keyboard shortcut settings.`
      : "No hotkey works now (it is off, or the desktop did not bind it: the tray menu says why). Switch from the tray or with `weft toggle`.",
  );
  // Only where the desktop can show its own dialog for the key (GlobalShortcuts version 2).
  $("change-hotkey").hidden = !status.hotkey_changeable;
}

/** Asks the desktop to show its dialog for Weft's shortcut; says why where it cannot. */
async function onChangeHotkey(): Promise<void> {
  const button = $<HTMLButtonElement>("change-hotkey");
  const result = $("hotkey-result");
  button.disabled = true;
  try {
    const answer = await control({ cmd: "change_hotkey" });
    result.hidden = false;
    setWithCode(
      result,
      answer.kind === "error"
        ? answer.data.message
        : "Your desktop's shortcut settings are open: the key you choose there takes effect at once.",
    );
  } catch (e) {
    showError(String(e));
  } finally {
    button.disabled = false;
  }
}

/** How the Now view names a part of the app that does not work (`Status.degraded`). */
const partLabel: Record<DesktopPart, string> = {
  tray: "the tray icon",
  notifications: "popups (they wait in the Inbox)",
  quiet_desktop: "quieting other apps' popups",
  hotkey: "the hotkey",
};

function renderLog(entries: SwitchEntry[]): void {
  const list = $("log");
  list.replaceChildren(
    ...entries
      .slice(-8)
      .reverse()
      .map((entry) => {
        const item = document.createElement("li");
        item.className = entry.to;
        const time = document.createElement("time");
        time.dateTime = entry.at;
        time.textContent = clock(entry.at);
        const dot = document.createElement("span");
        dot.className = "dot";
        const text = document.createElement("span");
        text.className = "text";
        text.textContent = entry.intent ? `${label[entry.to]}: ${entry.intent}` : label[entry.to];
        const source = document.createElement("span");
        source.className = "source";
        source.textContent = entry.source;
        item.append(time, dot, text, source);
        return item;
      }),
  );
  $("log-empty").hidden = entries.length > 0;
}

const stateLabel: Record<InboxItem["state"], string> = {
  held: "held",
  released: "released",
  delivered: "delivered",
  break_through: "broke through",
};

/** The title after who sent it, as `weft inbox` prints it: another app's item by its app
 * ("Slack: New message", only "Slack" when `desktop_capture = "count"` kept no title), Weft's
 * own by its sender ("CI: build failed"); "Ping from Ana" already names its sender. */
function titleWithSender(item: InboxItem): string {
  if (item.app) return item.title ? `${item.app}: ${item.title}` : item.app;
  return item.from && item.title !== `Ping from ${item.from}` ? `${item.from}: ${item.title}` : item.title;
}

function renderInbox(items: InboxItem[]): void {
  const held = items.filter((item) => item.state === "held").length;
  const badge = $("held-count");
  badge.hidden = held === 0;
  badge.textContent = `${held} held`;
  $("inbox").replaceChildren(
    ...items.slice(0, 12).map((item) => {
      const row = document.createElement("li");
      row.className = `${item.state} ${item.urgency}`;
      const time = document.createElement("time");
      time.dateTime = item.received;
      time.textContent = clock(item.received);
      const text = document.createElement("span");
      text.className = "text";
      const named = titleWithSender(item);
      const firstLine = item.body.split("\n")[0];
      text.textContent = firstLine ? `${named} · ${firstLine}` : named;
      text.title = item.body;
      const state = document.createElement("span");
      state.className = "source";
      state.textContent = stateLabel[item.state];
      const urgency = document.createElement("span");
      urgency.className = "urgency";
      urgency.textContent = item.urgency === "normal" ? "" : item.urgency;
      row.append(time, text, urgency, state);
      return row;
    }),
  );
  $("inbox-empty").hidden = items.length > 0;
}

function showError(message: string | null): void {
  const el = $("error");
  el.hidden = message === null;
  el.textContent = message ?? "";
}

/** The status, until the first status event arrives (events sent before the page listened
 * are not replayed). */
async function firstStatus(): Promise<void> {
  const seen = statusEvents;
  const status = await control({ cmd: "status" });
  if (status.kind === "status" && statusEvents === seen) render(status.data);
}

async function refresh(): Promise<void> {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const log = await control({ cmd: "log", since: midnight.toISOString() });
  if (log.kind === "log") renderLog(log.data);
  const inbox = await control({ cmd: "inbox" });
  if (inbox.kind === "inbox") renderInbox(inbox.data);
}

async function onSubmit(event: Event): Promise<void> {
  event.preventDefault();
  if (!current) return;
  const button = $<HTMLButtonElement>("switch");
  const input = $<HTMLInputElement>("intent-input");
  const plan = $<HTMLSelectElement>("plan-input");
  const stashInput = $<HTMLTextAreaElement>("stash-input");
  const to = current.state === "focus" ? "coordination" : "focus";
  const intent = to === "focus" && input.value.trim() ? input.value.trim() : undefined;
  const minutes = to === "focus" && plan.value ? Number(plan.value) : undefined;
  const stash = to === "coordination" && stashInput.value.trim() ? stashInput.value.trim() : undefined;
  button.disabled = true;
  try {
    const answer = await control({ cmd: "switch", to, source: "ui", intent, minutes, stash });
    if (answer.kind === "error") {
      showError(answer.data.message);
      return;
    }
    showError(null);
    input.value = "";
    plan.value = "";
    stashInput.value = "";
    // The status event that follows a switch renders it and refreshes the log (a no-op sends
    // none and changes nothing); the answer may already be older than an event shown.
    if (answer.kind === "switched" && statusEvents === 0) render(answer.data.status);
  } catch (e) {
    showError(String(e));
  } finally {
    button.disabled = false;
  }
}

const views = ["now", "today", "team", "settings"] as const;
type View = (typeof views)[number];

/** The view the address names: `#today[=date]`, `#team`, `#settings`, or else Now. */
function currentView(): View {
  const name = location.hash.slice(1).split("=")[0];
  return views.find((v) => v === name) ?? "now";
}

/** Shows the view the address names. */
function route(): void {
  const shown = currentView();
  for (const view of views) {
    $(`view-${view}`).hidden = view !== shown;
    $(`tab-${view}`).classList.toggle("active", view === shown);
  }
  if (shown === "today") void refreshToday().catch((e) => showError(String(e)));
  if (shown === "team" || shown === "settings") void refreshTeam().catch((e) => showError(String(e)));
  if (shown === "settings") void refreshSettings().catch((e) => showError(String(e)));
}

async function start(): Promise<void> {
  $("switch-form").addEventListener("submit", (event) => void onSubmit(event));
  $("change-hotkey").addEventListener("click", () => void onChangeHotkey());
  setUpToday();
  setUpSettings();
  await setUpTeam();
  window.addEventListener("hashchange", route);
  route();
  await onStatus((status) => {
    statusEvents += 1;
    render(status);
    void refresh();
    if (location.hash.startsWith("#today")) void refreshToday();
  });
  await firstStatus();
  await refresh();
  window.setInterval(() => current && render(current), 30_000);
}

start().catch((e) => showError(`Weft could not load: ${String(e)}`));

// The Team view (teammates' states, pings) and the Settings view (joining a team, what is
// shared). Both read the app's TeamInfo and change it only through control requests.
import { control, onTeam } from "./api.js";
import { $, clock, elapsed, label } from "./format.js";
import type { TeamInfo } from "./api.js";
import type { Request } from "./bindings/Request";
import type { Response } from "./bindings/Response";
import type { Member } from "./bindings/Member";
import type { PingSent } from "./bindings/PingSent";


let team: TeamInfo | null = null;
/** The teammate whose ping form is open, by member id. */
let pinging: number | null = null;



/** What the sender is told: "Delivered to Ana." or "Held until about 10:55 (Ana is focusing)." */
export function describePing(sent: PingSent): string {
  const to = sent.to;
  const outcome = sent.outcome;
  switch (outcome.outcome) {
    case "delivered":
      return sent.urgent ? `Delivered to ${to} now (urgent).` : `Delivered to ${to}.`;
    case "held": {
      const held = outcome.until
        ? `Held until about ${clock(outcome.until)}`
        : `Held until ${to} switches to coordination`;
      return outcome.over_budget
        ? `${held}: your urgent pings to ${to} for today are used up, so it waits like any other.`
        : `${held} (${to} is focusing).`;
    }
    case "queued":
      return `Queued: ${to}'s Weft is offline; ${to} gets it on reconnecting.`;
  }
}

function connectionText(info: TeamInfo): string {
  const c = info.connection;
  switch (c.state) {
    case "not_joined":
      return "";
    case "connecting":
      return "Connecting…";
    case "online":
      return "Live";
    case "offline":
      return c.retry_at
        ? `Offline: ${c.message}. Retrying at ${clock(c.retry_at)}; what you see may be out of date.`
        : `Offline: ${c.message}`;
  }
}

function memberRow(member: Member, me: boolean): HTMLLIElement {
  const row = document.createElement("li");
  row.className = `member ${member.state ?? "unknown"}${member.online ? "" : " offline"}`;
  row.dataset.name = member.name;
  const dot = document.createElement("span");
  dot.className = "dot";
  const who = document.createElement("span");
  who.className = "who";
  const name = document.createElement("strong");
  name.textContent = me ? `${member.name} (you)` : member.name;
  const what = document.createElement("span");
  what.className = "what";
  if (member.state && member.since) {
    let text = `${label[member.state]} since ${clock(member.since)} · ${elapsed(member.since)}`;
    if (member.until) text += ` · until ${clock(member.until)}`;
    what.textContent = text;
  } else {
    what.textContent = "has not shared a status yet";
  }
  who.append(name, what);
  if (member.intent) {
    const intent = document.createElement("span");
    intent.className = "member-intent";
    intent.textContent = member.intent;
    who.append(intent);
  }
  if (!member.online) {
    const away = document.createElement("span");
    away.className = "away";
    away.textContent = "offline";
    who.append(away);
  }
  row.append(dot, who);
  if (!me) {
    const ping = document.createElement("button");
    ping.className = "small ping";
    ping.textContent = "Ping";
    ping.addEventListener("click", () => openPing(member));
    row.append(ping);
  }
  return row;
}

function openPing(member: Member): void {
  pinging = member.id;
  $("ping-to").textContent = member.name;
  $("ping-form").hidden = false;
  $("ping-result").hidden = true;
  $<HTMLInputElement>("ping-text").focus();
}

function renderTeam(info: TeamInfo): void {
  team = info;
  const joined = info.membership;
  $("team-none").hidden = joined !== null;
  $("team-joined").hidden = joined === null;
  $("team-name").textContent = joined ? joined.team : "";
  const status = $("team-connection");
  status.textContent = connectionText(info);
  status.className = `connection ${info.connection.state}`;
  status.hidden = status.textContent === "";
  const me = joined?.member_id;
  $("members").replaceChildren(...info.members.map((m) => memberRow(m, m.id === me)));
  $("members-empty").hidden = info.members.some((m) => m.id !== me);
  if (pinging !== null && !info.members.some((m) => m.id === pinging)) {
    $("ping-form").hidden = true;
    pinging = null;
  }
  renderSettings(info);
}

function renderSettings(info: TeamInfo): void {
  const joined = info.membership;
  $("join-form").hidden = joined !== null;
  $("membership").hidden = joined === null;
  if (joined) {
    $("membership-text").textContent = `You are ${joined.name} in ${joined.team} on ${joined.server}.`;
    $<HTMLInputElement>("share-intent").checked = joined.share_intent;
  }
  const problem = info.connection.state === "offline" ? info.connection.message : "";
  const line = $("settings-connection");
  line.hidden = problem === "" || joined === null;
  line.textContent = problem;
}

function showError(id: string, message: string | null): void {
  const el = $(id);
  el.hidden = message === null;
  el.textContent = message ?? "";
}

async function sendPing(event: Event): Promise<void> {
  event.preventDefault();
  const member = team?.members.find((m) => m.id === pinging);
  const input = $<HTMLInputElement>("ping-text");
  const urgent = $<HTMLInputElement>("ping-urgent");
  if (!member || !input.value.trim()) return;
  const button = $<HTMLButtonElement>("ping-send");
  button.disabled = true;
  try {
    const answer = await control({ cmd: "ping", to: member.name, text: input.value.trim(), urgent: urgent.checked });
    if (answer.kind === "ping_sent") {
      showError("ping-error", null);
      const result = $("ping-result");
      result.textContent = describePing(answer.data);
      result.hidden = false;
      input.value = "";
      urgent.checked = false;
      $("ping-form").hidden = true;
      pinging = null;
    } else if (answer.kind === "error") {
      showError("ping-error", answer.data.message);
    }
  } catch (e) {
    showError("ping-error", String(e));
  } finally {
    button.disabled = false;
  }
}

/** Team events rendered so far. The team has one reporter, the app's ordered event stream; an
 * answer read over another connection may be older than an event already shown (the stream
 * connects while a join's answer travels), so it is rendered only when no event came in
 * while it travelled. */
let teamEvents = 0;

/** Sends a team request and renders its answer unless an event overtook it. */
async function teamCall(request: Request): Promise<Response> {
  const seen = teamEvents;
  const answer = await control(request);
  if (answer.kind === "team" && teamEvents === seen) renderTeam(answer.data);
  return answer;
}

async function join(event: Event): Promise<void> {
  event.preventDefault();
  const button = $<HTMLButtonElement>("join");
  button.disabled = true;
  try {
    const answer = await teamCall({
      cmd: "team_join",
      server: $<HTMLInputElement>("join-server").value.trim(),
      invite: $<HTMLInputElement>("join-invite").value.trim(),
      name: $<HTMLInputElement>("join-name").value.trim(),
      share_intent: $<HTMLInputElement>("join-share").checked,
    });
    if (answer.kind === "team") {
      showError("join-error", null);
      $<HTMLInputElement>("join-invite").value = "";
    } else if (answer.kind === "error") {
      showError("join-error", answer.data.message);
    }
  } catch (e) {
    showError("join-error", String(e));
  } finally {
    button.disabled = false;
  }
}

async function share(): Promise<void> {
  const box = $<HTMLInputElement>("share-intent");
  const answer = await teamCall({ cmd: "team_share", share_intent: box.checked });
  if (answer.kind === "error") showError("settings-error", answer.data.message);
}

/** Leaving takes two clicks: the first asks, the second leaves (a dialog would be heavier). */
let leaveArmed = false;

async function leave(): Promise<void> {
  const button = $<HTMLButtonElement>("leave");
  if (!leaveArmed) {
    leaveArmed = true;
    button.textContent = "Leave for sure? You need a new invite to join again";
    window.setTimeout(() => {
      leaveArmed = false;
      button.textContent = "Leave the team";
    }, 5000);
    return;
  }
  leaveArmed = false;
  button.textContent = "Leave the team";
  const answer = await teamCall({ cmd: "team_leave", force: false });
  if (answer.kind === "error") showError("settings-error", answer.data.message);
}

/** Loads the team and follows it. */
export async function setUpTeam(): Promise<void> {
  $("ping-form").addEventListener("submit", (event) => void sendPing(event));
  $("ping-cancel").addEventListener("click", () => {
    $("ping-form").hidden = true;
    pinging = null;
  });
  $("join-form").addEventListener("submit", (event) => void join(event));
  $("share-intent").addEventListener("change", () => void share().catch((e) => showError("settings-error", String(e))));
  $("leave").addEventListener("click", () => void leave().catch((e) => showError("settings-error", String(e))));
  await onTeam((info) => {
    teamEvents += 1;
    renderTeam(info);
  });
  await refreshTeam();
  // "since … · 12 min" stays current, and a team event the window missed is caught up.
  window.setInterval(() => void refreshTeam().catch(() => team && renderTeam(team)), 30_000);
}

export async function refreshTeam(): Promise<void> {
  await teamCall({ cmd: "team" });
}

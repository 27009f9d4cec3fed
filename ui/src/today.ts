// The Today view: headline figures, an SVG timeline of the day, the focus blocks with their
// intents and stashes, seven days of bars, and "Copy as Markdown".
import { control } from "./api.js";
import { $, clock as localClock, duration } from "./format.js";

/** Times on the timeline and the blocks read as a 24-hour clock. */
const clock = (at: string): string => localClock(at, { hour12: false });
import type { AppCount } from "./bindings/AppCount";
import type { DaySummary } from "./bindings/DaySummary";

const SVG = "http://www.w3.org/2000/svg";




function isoDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function shift(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  return isoDate(new Date(y, m - 1, d + days));
}

function rect(x: number, y: number, w: number, h: number, cls: string): SVGRectElement {
  const r = document.createElementNS(SVG, "rect");
  r.setAttribute("x", String(x));
  r.setAttribute("y", String(y));
  r.setAttribute("width", String(Math.max(0, w)));
  r.setAttribute("height", String(Math.max(0, h)));
  r.setAttribute("class", cls);
  return r;
}

function renderTimeline(day: DaySummary): void {
  const svg = $("timeline") as unknown as SVGSVGElement;
  const [y, m, d] = day.date.split("-").map(Number);
  const start = new Date(y, m - 1, d).getTime();
  const end = new Date(y, m - 1, d + 1).getTime();
  const x = (t: string) => ((Date.parse(t) - start) / (end - start)) * 1000;
  svg.replaceChildren(
    ...day.timeline
      .filter((s) => s.state !== null)
      .map((s) => {
        const r = rect(x(s.start), 0, x(s.end) - x(s.start), 44, s.state ?? "");
        const title = document.createElementNS(SVG, "title");
        title.textContent = `${s.state} ${clock(s.start)}–${clock(s.end)}`;
        r.append(title);
        return r;
      }),
  );
}

function renderWeek(days: DaySummary[], current: string): void {
  const svg = $("week") as unknown as SVGSVGElement;
  const most = Math.max(1, ...days.map((d) => d.focus_seconds + d.coordination_seconds));
  const height = 100;
  const parts: SVGElement[] = [];
  days.forEach((day, i) => {
    const x = i * 100 + 25;
    const focus = (day.focus_seconds / most) * height;
    const coordination = (day.coordination_seconds / most) * height;
    parts.push(rect(x, height - focus, 50, focus, "focus"));
    parts.push(rect(x, height - focus - coordination, 50, coordination, "coordination"));
    const label = document.createElementNS(SVG, "text");
    label.setAttribute("x", String(x + 25));
    label.setAttribute("y", "122");
    label.setAttribute("text-anchor", "middle");
    const [y, m, d] = day.date.split("-").map(Number);
    label.textContent = new Date(y, m - 1, d).toLocaleDateString([], { weekday: "short" });
    if (day.date === current) label.setAttribute("class", "today");
    const title = document.createElementNS(SVG, "title");
    title.textContent = `${day.date}: focus ${duration(day.focus_seconds)}, coordination ${duration(day.coordination_seconds)}`;
    label.append(title);
    parts.push(label);
  });
  svg.replaceChildren(...parts);
}

/** How many apps the Today view names; the rest are one line. */
const TOP_APPS = 5;

/** Other apps' notifications in the day's focus, the most first ("Slack · 6 held"); the
 * section shows only on a day that had some. */
function renderApps(apps: AppCount[]): void {
  $("apps-section").hidden = apps.length === 0;
  const row = (name: string, counts: string): HTMLLIElement => {
    const item = document.createElement("li");
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = name;
    const count = document.createElement("span");
    count.className = "source";
    count.textContent = counts;
    item.append(text, count);
    return item;
  };
  const counted = (held: number, breakThroughs: number): string =>
    [held > 0 ? `${held} held` : "", breakThroughs > 0 ? `${breakThroughs} broke through` : ""]
      .filter(Boolean)
      .join(" · ");
  const rest = apps.slice(TOP_APPS);
  const sum = (pick: (a: AppCount) => number) => rest.reduce((n, a) => n + pick(a), 0);
  $("apps").replaceChildren(
    ...apps.slice(0, TOP_APPS).map((a) => row(a.app, counted(a.held, a.break_throughs))),
    ...(rest.length > 0
      ? [
          row(
            `${rest.length} other app${rest.length === 1 ? "" : "s"}`,
            counted(sum((a) => a.held), sum((a) => a.break_throughs)),
          ),
        ]
      : []),
  );
}

function renderDay(day: DaySummary): void {
  const today = isoDate(new Date());
  $("day-title").textContent =
    day.date === today
      ? "Today"
      : new Date(`${day.date}T12:00:00`).toLocaleDateString([], {
          weekday: "long",
          day: "numeric",
          month: "long",
        });
  $<HTMLButtonElement>("day-next").disabled = day.date >= today;
  $("t-focus").textContent = duration(day.focus_seconds);
  $("t-coordination").textContent = duration(day.coordination_seconds);
  $("t-untracked").textContent = duration(day.untracked_seconds);
  $("t-switches").textContent = String(day.switches);
  $("t-longest").textContent = duration(day.longest_focus_seconds);
  $("t-fragmented").textContent = String(day.fragmented_blocks);
  $("t-counts").textContent =
    `${day.held} held · ${day.digests} digest${day.digests === 1 ? "" : "s"} · ` +
    `${day.break_throughs} break-through${day.break_throughs === 1 ? "" : "s"}` +
    (day.pings_sent + day.pings_received > 0
      ? ` · pings: ${day.pings_sent} sent, ${day.pings_received} received`
      : "");
  renderTimeline(day);
  renderApps(day.held_by_app ?? []);
  $("blocks").replaceChildren(
    ...day.focus_blocks.map((block) => {
      const item = document.createElement("li");
      item.className = "focus";
      const time = document.createElement("time");
      time.textContent = `${clock(block.start)}–${block.open ? "now" : clock(block.end)}`;
      const text = document.createElement("span");
      text.className = "text";
      text.textContent = block.intent ?? "(no intent)";
      const length = document.createElement("span");
      length.className = "source";
      length.textContent = duration(block.seconds);
      item.append(time, text, length);
      if (block.stash) {
        const stash = document.createElement("span");
        stash.className = "stash";
        stash.textContent = block.stash;
        item.append(stash);
      }
      return item;
    }),
  );
  $("blocks-empty").hidden = day.focus_blocks.length > 0;
}

/** The date the view shows: `#today=YYYY-MM-DD`, or today. */
export function shownDate(): string {
  const match = /^#today=(\d{4}-\d{2}-\d{2})$/.exec(location.hash);
  return match ? match[1] : isoDate(new Date());
}

export async function refreshToday(): Promise<void> {
  const date = shownDate();
  const week = await control({ cmd: "summary", date, week: true });
  if (week.kind !== "summary") return;
  const day = week.data[week.data.length - 1];
  if (day) renderDay(day);
  renderWeek(week.data, date);
}

async function copyMarkdown(): Promise<void> {
  const answer = await control({ cmd: "markdown", date: shownDate() });
  if (answer.kind !== "text") return;
  try {
    await navigator.clipboard.writeText(answer.data);
  } catch {
    const area = document.createElement("textarea");
    area.value = answer.data;
    document.body.append(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const done = $("copied");
  done.hidden = false;
  window.setTimeout(() => (done.hidden = true), 2000);
}

export function setUpToday(): void {
  $("day-prev").addEventListener("click", () => (location.hash = `#today=${shift(shownDate(), -1)}`));
  $("day-next").addEventListener("click", () => (location.hash = `#today=${shift(shownDate(), 1)}`));
  $("copy-md").addEventListener("click", () => void copyMarkdown());
}

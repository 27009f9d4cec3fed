// The one module that talks to Rust. Every call is a control Request handed to the same
// dispatcher the `weft` CLI reaches over the socket; the types are generated from Rust.
import type { Request } from "./bindings/Request";
import type { Response } from "./bindings/Response";
import type { Status } from "./bindings/Status";
import type { TeamInfo } from "./bindings/TeamInfo";

export type { Request, Response, Status, TeamInfo };

interface TauriGlobal {
  core: { invoke<T>(command: string, args?: Record<string, unknown>): Promise<T> };
  event: {
    listen<T>(event: string, handler: (event: { payload: T }) => void): Promise<() => void>;
  };
}

declare global {
  interface Window {
    __TAURI__?: TauriGlobal;
  }
}

/** The event the app emits after every committed switch. */
export const STATUS_EVENT = "weft://status";

/** The event the app emits when the team changes (a teammate, the connection, the membership). */
export const TEAM_EVENT = "weft://team";

function tauri(): TauriGlobal {
  const t = window.__TAURI__;
  if (!t) throw new Error("Weft's window must run inside the Weft app");
  return t;
}

/** Sends one control request and returns the app's answer. */
export async function control(request: Request): Promise<Response> {
  return tauri().core.invoke<Response>("control", { request });
}

/** Calls `handler` with the new status after every switch, from any surface. */
export async function onStatus(handler: (status: Status) => void): Promise<() => void> {
  return tauri().event.listen<Status>(STATUS_EVENT, (event) => handler(event.payload));
}

/** Calls `handler` with the team whenever it changes. */
export async function onTeam(handler: (team: TeamInfo) => void): Promise<() => void> {
  return tauri().event.listen<TeamInfo>(TEAM_EVENT, (event) => handler(event.payload));
}

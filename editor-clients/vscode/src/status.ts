// What the status bar item shows for a leanCopilot/status notification. Pure, unit-tested.

export type ServerState = "idle" | "searching" | "error" | "starting" | "stopped";

/** Payload of the server's leanCopilot/status notification. */
export interface StatusParams {
  state: ServerState;
  running?: number;
  message?: string;
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** Command run when the item is clicked. */
  command: string;
  isError: boolean;
}

/**
 * What the item shows after a leanCopilot/status notification. An error stays until the next search
 * starts: the server reports "idle" right after a search fails, which would hide the error at once.
 */
export function nextStatus(shown: StatusParams, incoming: StatusParams): StatusParams {
  if (incoming.state === "idle" && shown.state === "error") return { ...shown, running: 0 };
  return incoming;
}

export function statusView(status: StatusParams): StatusView {
  const detail = status.message ? `\n${status.message}` : "";
  switch (status.state) {
    case "searching": {
      const n = Math.max(1, status.running ?? 1);
      return {
        text: `$(sync~spin) Lean Copilot: searching (${n})`,
        tooltip: `${n} proof search${n === 1 ? "" : "es"} running. Click to cancel.${detail}`,
        command: "leanCopilot.cancelSearch",
        isError: false,
      };
    }
    case "error":
      return {
        text: "$(error) Lean Copilot",
        tooltip: `Lean Copilot: error.${detail}\nClick to restart the server.`,
        command: "leanCopilot.restartServer",
        isError: true,
      };
    case "starting":
      return { text: "$(loading~spin) Lean Copilot", tooltip: "Starting the server…", command: "leanCopilot.restartServer", isError: false };
    case "stopped":
      return { text: "$(circle-slash) Lean Copilot", tooltip: `Server stopped.${detail}\nClick to restart.`, command: "leanCopilot.restartServer", isError: true };
    case "idle":
    default:
      return {
        text: "$(check) Lean Copilot",
        tooltip: `Lean Copilot: idle.${detail}\nClick to show the last transcript.`,
        command: "leanCopilot.showLastTranscript",
        isError: false,
      };
  }
}

/** Result of every leanCopilot.* workspace/executeCommand. */
export interface SearchResult {
  status: "proved" | "failed" | "cancelled" | "changed" | "error" | "nothing-to-repair" | "skeleton";
  searchId?: string;
  message?: string;
}

export type MessageLevel = "info" | "warning" | "error" | "none";

/** How a finished search is reported to the user: cancelled searches stay quiet, the user asked for it. */
export function resultMessage(result: unknown): { level: MessageLevel; text: string } {
  if (!isSearchResult(result)) return { level: "none", text: "" };
  const text = result.message ?? "";
  switch (result.status) {
    case "proved":
      return { level: "info", text: text || "Lean Copilot: proof found and verified by Lean." };
    case "nothing-to-repair":
      return { level: "info", text: text || "Lean Copilot: Lean accepts this proof as it is; nothing to repair." };
    case "skeleton":
      return { level: "info", text: text || "Lean Copilot: verified skeleton inserted (its sorries are left to prove)." };
    case "failed":
      return { level: "warning", text: text || "Lean Copilot: no proof found." };
    case "changed":
      return { level: "warning", text: text || "Lean Copilot: the document changed during the search; proof not applied." };
    case "error":
      return { level: "error", text: text || "Lean Copilot: the search failed." };
    case "cancelled":
    default:
      return { level: "none", text };
  }
}

/** One line for the output channel saying how a server command ended (undefined for other results). */
export function resultLogLine(command: string, result: unknown): string | undefined {
  if (!isSearchResult(result)) return undefined;
  const id = result.searchId ? ` (${result.searchId})` : "";
  return `${command}${id}: ${result.status}${result.message ? ` — ${result.message}` : ""}`;
}

function isSearchResult(value: unknown): value is SearchResult {
  return typeof value === "object" && value !== null && typeof (value as { status?: unknown }).status === "string";
}

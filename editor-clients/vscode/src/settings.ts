// Maps VS Code settings (leanCopilot.*) to the server's settings tree (the TOML sections of
// lean_copilot_py/settings.py). Pure: no `vscode` import, so it is unit-tested under plain Node.

/** The nested options the server accepts as initializationOptions and settings.leanCopilot. */
export type ServerOptions = Record<string, Record<string, unknown>>;

/**
 * Reads one setting's value *as the user set it* (undefined when unset at every scope).
 * Only explicit values are sent: editor options are the highest settings layer on the server, so
 * sending our defaults would silently override the project's .lean-copilot.toml.
 */
export type ExplicitReader = (key: string) => unknown;

/** VS Code key (under leanCopilot.) -> [server section, server key]. */
export const SETTING_MAP: ReadonlyArray<readonly [string, string, string]> = [
  ["model.backend", "model", "backend"],
  ["model.endpoint", "model", "endpoint"],
  ["model.name", "model", "name"],
  ["model.family", "model", "family"],
  ["vllm.command", "vllm", "command"],
  ["lean.serverCommand", "lean", "server_command"],
  ["search.attempts", "search", "attempts"],
  ["search.deadlineSeconds", "search", "deadline_s"],
  ["inline.enabled", "inline", "enabled"],
  ["server.checkDocuments", "server", "check_documents"],
];

/** Settings whose change needs a new server process rather than didChangeConfiguration. */
export const RESTART_KEYS: readonly string[] = ["server.command", "server.pythonPath"];

/**
 * Settings that start a program or route the user's keys and code (the server's privileged keys, plus
 * the command that starts the server itself). A cloned repository's .vscode/settings.json must not set
 * them, so in an untrusted workspace only the user's own (global) value counts. package.json declares
 * the same list as restrictedConfigurations, so VS Code ignores those workspace values too; applying the
 * rule here as well keeps what reaches the server independent of the VS Code version.
 */
export const PRIVILEGED_SETTINGS: readonly string[] = [
  "server.command",
  "server.pythonPath",
  "lean.serverCommand",
  "vllm.command",
  "model.endpoint",
];

/** One setting's value at each scope, as `WorkspaceConfiguration.inspect` returns it. */
export interface ScopedValue {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

/** The value the user set explicitly: the narrowest scope wins, except that an untrusted workspace's
 * own values of privileged settings are ignored. */
export function explicitValue(inspected: ScopedValue | undefined, key: string, trusted: boolean): unknown {
  if (!inspected) return undefined;
  if (!trusted && PRIVILEGED_SETTINGS.includes(key)) return inspected.globalValue;
  return inspected.workspaceFolderValue ?? inspected.workspaceValue ?? inspected.globalValue;
}

/**
 * The server's options. `trusted` is VS Code's workspace trust: the server then also takes the privileged
 * keys of the project's own .lean-copilot.toml (for projects inside the workspace's folders).
 */
export function toServerOptions(read: ExplicitReader, trusted: boolean): ServerOptions {
  const options: ServerOptions = { trust: { workspace: trusted } };
  for (const [vscodeKey, section, key] of SETTING_MAP) {
    const value = read(vscodeKey);
    // An empty string or list means "not set" in a settings UI; the server's default applies.
    if (value === undefined || value === null || value === "") continue;
    if (Array.isArray(value) && value.length === 0) continue;
    (options[section] ??= {})[key] = value;
  }
  return options;
}

export interface ServerLaunch {
  command: string;
  args: string[];
}

/** Which process to start: explicit command > `<python> -m lean_copilot_py serve` > `lean-copilot serve`. */
export function serverLaunch(command: unknown, pythonPath: unknown): ServerLaunch {
  if (Array.isArray(command) && command.length > 0 && command.every((part) => typeof part === "string")) {
    const [first, ...rest] = command as string[];
    return { command: first, args: rest };
  }
  if (typeof pythonPath === "string" && pythonPath.trim() !== "") {
    return { command: pythonPath.trim(), args: ["-m", "lean_copilot_py", "serve"] };
  }
  return { command: "lean-copilot", args: ["serve"] };
}

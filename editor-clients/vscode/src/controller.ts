// Owns the language client's lifecycle: start, restart on a new server command, settings pushes.
import * as vscode from "vscode";
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions as LaunchOptions,
  MessageActionItem,
  MessageType,
  ShowMessageNotification,
  ShowMessageRequest,
  State,
} from "vscode-languageclient/node";
import { RecentMessages } from "./messages";
import { RESTART_KEYS, ServerOptions, explicitValue, serverLaunch, toServerOptions } from "./settings";
import { StatusParams, resultLogLine, resultMessage } from "./status";
import { StatusBar } from "./statusBar";

const SECTION = "leanCopilot";

/** Reads a leanCopilot.* setting the user set explicitly (an untrusted workspace's privileged values
 * excluded). */
function explicitSetting(key: string): unknown {
  return explicitValue(vscode.workspace.getConfiguration(SECTION).inspect(key), key, vscode.workspace.isTrusted);
}

export function currentServerOptions(): ServerOptions {
  return toServerOptions(explicitSetting, vscode.workspace.isTrusted);
}

function currentLaunch() {
  return serverLaunch(explicitSetting("server.command"), explicitSetting("server.pythonPath"));
}

export class Controller implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly output = vscode.window.createOutputChannel("Lean Copilot", { log: true });
  private readonly statusBar = new StatusBar();
  private readonly recent = new RecentMessages();
  private readonly disposables: vscode.Disposable[] = [this.output, this.statusBar];
  private launched = ""; // the launch the running server was started with (JSON)

  constructor() {
    this.disposables.push(vscode.workspace.onDidChangeConfiguration((event) => this.onConfigurationChanged(event)));
  }

  async start(): Promise<void> {
    const launch = currentLaunch();
    this.launched = JSON.stringify(launch);
    const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    const serverOptions: LaunchOptions = { command: launch.command, args: launch.args, options: { cwd } };
    const clientOptions: LanguageClientOptions = {
      // Beside vscode-lean4: both clients see the same lean4 documents.
      documentSelector: [{ scheme: "file", language: "lean4" }],
      initializationOptions: currentServerOptions(),
      outputChannel: this.output,
      middleware: {
        // Code actions run the server's commands through the client; report their results here too.
        executeCommand: async (command, args, next) => {
          const result: unknown = await next(command, args);
          this.logResult(command, result);
          this.reportResult(result);
          return result;
        },
      },
    };
    const client = new LanguageClient(SECTION, "Lean Copilot", serverOptions, clientOptions);
    this.client = client;
    client.onDidChangeState((event) => {
      if (event.newState === State.Starting) this.statusBar.show({ state: "starting" });
      else if (event.newState === State.Running) this.statusBar.show({ state: "idle" });
      else this.statusBar.show({ state: "stopped" });
    });
    client.onNotification("leanCopilot/status", (params: StatusParams) => this.statusBar.update(params));
    // The server's own messages, through the same once-only filter as our result messages (these
    // replace the client's built-in handlers, which would show a message the result repeats).
    client.onNotification(ShowMessageNotification.type, (params) => void this.say(params.type, params.message));
    client.onRequest(ShowMessageRequest.type, async (params): Promise<MessageActionItem | null> => {
      const actions = params.actions ?? [];
      const title = await this.say(params.type, params.message, actions.map((action) => action.title));
      return actions.find((action) => action.title === title) ?? null;
    });
    this.output.info(`starting ${launch.command} ${launch.args.join(" ")}`);
    try {
      await client.start();
    } catch (error) {
      this.statusBar.show({ state: "error", message: String(error) });
      void vscode.window.showErrorMessage(
        `Lean Copilot: could not start \`${launch.command}\`. Set leanCopilot.server.command or leanCopilot.server.pythonPath. (${error})`,
      );
    }
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** Runs one of the server's workspace/executeCommand commands and reports its result. */
  async execute(command: string, args: unknown[]): Promise<unknown> {
    const client = this.client;
    if (!client || !client.isRunning()) {
      void vscode.window.showErrorMessage("Lean Copilot: the server is not running (try Lean Copilot: Restart Server).");
      return undefined;
    }
    const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
    this.logResult(command, result);
    this.reportResult(result);
    return result;
  }

  /** Shows a finished search's outcome; cancelled searches stay silent. */
  private reportResult(result: unknown): void {
    const { level, text } = resultMessage(result);
    if (level === "info") void this.say(MessageType.Info, text);
    else if (level === "warning") void this.say(MessageType.Warning, text);
    else if (level === "error") void this.say(MessageType.Error, text);
  }

  /** A notification, unless the same text was just shown; resolves to the action the user picked. */
  private async say(type: MessageType, text: string, actions: string[] = []): Promise<string | undefined> {
    if (!this.recent.first(text)) return undefined;
    if (type === MessageType.Error) return vscode.window.showErrorMessage(text, ...actions);
    if (type === MessageType.Warning) return vscode.window.showWarningMessage(text, ...actions);
    if (type === MessageType.Info) return vscode.window.showInformationMessage(text, ...actions);
    this.output.info(text); // MessageType.Log and anything newer
    return undefined;
  }

  /** Every search's outcome in the output channel, cancelled ones too (they show no message). */
  private logResult(command: string, result: unknown): void {
    const line = resultLogLine(command, result);
    if (line) this.output.info(line);
  }

  /** The URI string as the server knows it (the client's converter, so it matches didOpen exactly). */
  protocolUri(uri: vscode.Uri): string {
    return this.client ? this.client.code2ProtocolConverter.asUri(uri) : uri.toString();
  }

  private onConfigurationChanged(event: vscode.ConfigurationChangeEvent): void {
    if (!event.affectsConfiguration(SECTION)) return;
    if (RESTART_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`))) {
      void this.restart();
      return;
    }
    this.pushSettings();
  }

  /** The user trusted the workspace: its own values of privileged settings now count, and the server may
   * take the project's .lean-copilot.toml whole. A different server command means a new server. */
  trustGranted(): void {
    if (JSON.stringify(currentLaunch()) !== this.launched) {
      void this.restart();
      return;
    }
    this.pushSettings();
  }

  private pushSettings(): void {
    if (this.client?.isRunning()) {
      void this.client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { [SECTION]: currentServerOptions() },
      });
    }
  }

  private async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (error) {
        this.output.warn(`stopping the server: ${error}`);
      }
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
    for (const disposable of this.disposables) disposable.dispose();
  }
}

// The status bar item: idle / searching (n) / error, fed by leanCopilot/status and the client's state.
import * as vscode from "vscode";
import { StatusParams, nextStatus, statusView } from "./status";

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("leanCopilot.status", vscode.StatusBarAlignment.Right, 100);
  private shown: StatusParams = { state: "starting" };

  constructor() {
    this.item.name = "Lean Copilot";
    this.show({ state: "starting" });
    this.item.show();
  }

  /** The server's leanCopilot/status notification (an error outlives the "idle" that follows it). */
  update(status: StatusParams): void {
    this.show(nextStatus(this.shown, status));
  }

  /** Shows `status` as is (the client's own states: starting, running, stopped). */
  show(status: StatusParams): void {
    this.shown = status;
    const view = statusView(status);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
    this.item.backgroundColor = view.isError ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }

  dispose(): void {
    this.item.dispose();
  }
}

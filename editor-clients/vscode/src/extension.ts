// Entry point: one language client for all lean4 documents, plus commands and a status bar item.
import * as vscode from "vscode";
import { registerCommands } from "./commands";
import { Controller } from "./controller";

let controller: Controller | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  controller = new Controller();
  context.subscriptions.push(...registerCommands(controller));
  // Workspace trust can be granted while we run (never revoked without a reload).
  context.subscriptions.push(vscode.workspace.onDidGrantWorkspaceTrust(() => controller?.trustGranted()));
  await controller.start();
}

export async function deactivate(): Promise<void> {
  await controller?.dispose();
  controller = undefined;
}

// The user-facing commands. Their ids differ from the server's (leanCopilot.prove, ...), which the
// language client registers itself for code actions.
import * as vscode from "vscode";
import { Controller } from "./controller";

function activeLeanEditor(): vscode.TextEditor | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== "lean4") {
    void vscode.window.showWarningMessage("Lean Copilot: open a Lean 4 file first.");
    return undefined;
  }
  return editor;
}

export function registerCommands(controller: Controller): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand("leanCopilot.proveAtCursor", () => {
      const editor = activeLeanEditor();
      if (!editor) return undefined;
      const position = editor.selection.active;
      return controller.execute("leanCopilot.prove", [
        { uri: controller.protocolUri(editor.document.uri), line: position.line, character: position.character },
      ]);
    }),
    vscode.commands.registerCommand("leanCopilot.fillSorriesInFile", () => {
      const editor = activeLeanEditor();
      if (!editor) return undefined;
      return controller.execute("leanCopilot.fillAllSorries", [{ uri: controller.protocolUri(editor.document.uri) }]);
    }),
    vscode.commands.registerCommand("leanCopilot.cancelSearch", () => controller.execute("leanCopilot.cancel", [])),
    vscode.commands.registerCommand("leanCopilot.showLastTranscript", () =>
      controller.execute("leanCopilot.showTranscript", []),
    ),
    vscode.commands.registerCommand("leanCopilot.restartServer", () => controller.restart()),
  ];
}

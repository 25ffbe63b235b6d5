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

/** {uri, line, character} of the cursor, as the server's commands take it. */
function cursorArgument(controller: Controller, editor: vscode.TextEditor): Record<string, unknown> {
  const position = editor.selection.active;
  return { uri: controller.protocolUri(editor.document.uri), line: position.line, character: position.character };
}

/** Lean's errors in the document (vscode-lean4's diagnostics), as the LSP JSON leanCopilot.repair reads. */
function leanErrors(document: vscode.TextDocument): unknown[] {
  return vscode.languages
    .getDiagnostics(document.uri)
    .filter((d) => d.severity === vscode.DiagnosticSeverity.Error && d.source !== "lean-copilot")
    .map((d) => ({
      range: {
        start: { line: d.range.start.line, character: d.range.start.character },
        end: { line: d.range.end.line, character: d.range.end.character },
      },
      severity: 1,
      message: d.message,
      source: d.source,
    }));
}

export function registerCommands(controller: Controller): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand("leanCopilot.repairAtCursor", () => {
      const editor = activeLeanEditor();
      if (!editor) return undefined;
      const argument = { ...cursorArgument(controller, editor), diagnostics: leanErrors(editor.document) };
      return controller.execute("leanCopilot.repair", [argument]);
    }),
    vscode.commands.registerCommand("leanCopilot.insertSkeletonAtCursor", () => {
      const editor = activeLeanEditor();
      if (!editor) return undefined;
      return controller.execute("leanCopilot.insertSkeleton", [cursorArgument(controller, editor)]);
    }),
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

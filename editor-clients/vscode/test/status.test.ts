import assert from "node:assert/strict";
import { test } from "node:test";
import { nextStatus, resultLogLine, resultMessage, statusView } from "../src/status";

test("idle, searching (n) and error views", () => {
  assert.match(statusView({ state: "idle", running: 0 }).text, /Lean Copilot$/);
  const searching = statusView({ state: "searching", running: 3 });
  assert.match(searching.text, /searching \(3\)/);
  assert.equal(searching.command, "leanCopilot.cancelSearch");
  const error = statusView({ state: "error", running: 0, message: "Lean crashed" });
  assert.ok(error.isError);
  assert.match(error.tooltip, /Lean crashed/);
  assert.equal(error.command, "leanCopilot.restartServer");
});

test("searching without a count still says 1", () => {
  assert.match(statusView({ state: "searching" }).text, /searching \(1\)/);
});

test("search results: proved informs, failures warn, cancelled is silent, junk is ignored", () => {
  assert.equal(resultMessage({ status: "proved", searchId: "s1", message: "done" }).level, "info");
  assert.equal(resultMessage({ status: "proved" }).text.length > 0, true);
  assert.equal(resultMessage({ status: "failed", message: "no proof" }).level, "warning");
  assert.equal(resultMessage({ status: "changed" }).level, "warning");
  assert.equal(resultMessage({ status: "error", message: "boom" }).level, "error");
  assert.equal(resultMessage({ status: "cancelled" }).level, "none");
  assert.equal(resultMessage({ status: "nothing-to-repair", message: "accepted" }).level, "info");
  assert.equal(resultMessage({ status: "skeleton" }).level, "info");
  assert.match(resultMessage({ status: "skeleton" }).text, /skeleton/);
  assert.equal(resultMessage(null).level, "none");
  assert.equal(resultMessage("proved").level, "none");
});

test("an error stays until the next search starts", () => {
  const error = { state: "error" as const, running: 1, message: "Lean could not be used" };
  const after = nextStatus(error, { state: "idle", running: 0 });
  assert.equal(after.state, "error");
  assert.equal(after.message, "Lean could not be used");
  assert.equal(after.running, 0);
  assert.equal(nextStatus(after, { state: "searching", running: 1 }).state, "searching");
  assert.equal(nextStatus({ state: "searching", running: 1 }, { state: "idle", running: 0 }).state, "idle");
  assert.equal(nextStatus({ state: "idle" }, { state: "error", message: "x" }).state, "error");
});

test("a command's outcome as one output line", () => {
  assert.equal(
    resultLogLine("leanCopilot.prove", { status: "cancelled", searchId: "s3", message: "lean-copilot: `t`: cancelled" }),
    "leanCopilot.prove (s3): cancelled — lean-copilot: `t`: cancelled",
  );
  assert.equal(resultLogLine("leanCopilot.cancel", { status: "cancelled" }), "leanCopilot.cancel: cancelled");
  assert.equal(resultLogLine("leanCopilot.prove", undefined), undefined);
});

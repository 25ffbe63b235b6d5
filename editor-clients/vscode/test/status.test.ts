import assert from "node:assert/strict";
import { test } from "node:test";
import { resultMessage, statusView } from "../src/status";

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
  assert.equal(resultMessage(null).level, "none");
  assert.equal(resultMessage("proved").level, "none");
});

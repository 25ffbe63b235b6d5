import assert from "node:assert/strict";
import { test } from "node:test";
import { RecentMessages } from "../src/messages";

test("a message repeated within the window is said once; later it is said again", () => {
  let now = 1000;
  const recent = new RecentMessages(3000, () => now);
  assert.equal(recent.first("lean-copilot: no verified proof of `t`"), true);
  assert.equal(recent.first("lean-copilot: no verified proof of `t`"), false);
  assert.equal(recent.first("lean-copilot: something else"), true);
  now += 3001;
  assert.equal(recent.first("lean-copilot: no verified proof of `t`"), true);
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { SETTING_MAP, serverLaunch, toServerOptions } from "../src/settings";

const reader = (values: Record<string, unknown>) => (key: string) => values[key];

test("nothing set sends nothing, so the project's .lean-copilot.toml wins", () => {
  assert.deepEqual(toServerOptions(reader({})), {});
});

test("explicit values map to the server's sections and snake_case keys", () => {
  const options = toServerOptions(
    reader({
      "model.backend": "openai",
      "model.endpoint": "http://gpu:8000/v1",
      "model.name": "m",
      "model.family": "kimina",
      "vllm.command": ["vllm", "serve"],
      "lean.serverCommand": ["lake", "serve"],
      "search.attempts": 4,
      "search.deadlineSeconds": 30,
      "inline.enabled": false,
    }),
  );
  assert.deepEqual(options, {
    model: { backend: "openai", endpoint: "http://gpu:8000/v1", name: "m", family: "kimina" },
    vllm: { command: ["vllm", "serve"] },
    lean: { server_command: ["lake", "serve"] },
    search: { attempts: 4, deadline_s: 30 },
    inline: { enabled: false },
  });
});

test("false and 0 are real values; empty strings and lists are unset", () => {
  const options = toServerOptions(
    reader({ "inline.enabled": false, "search.attempts": 0, "model.endpoint": "", "vllm.command": [] }),
  );
  assert.deepEqual(options, { inline: { enabled: false }, search: { attempts: 0 } });
});

test("every mapped key is contributed in package.json", async () => {
  const { readFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const manifest = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8"));
  const contributed = Object.keys(manifest.contributes.configuration.properties);
  for (const [key] of SETTING_MAP) assert.ok(contributed.includes(`leanCopilot.${key}`), key);
  for (const key of ["server.command", "server.pythonPath"]) assert.ok(contributed.includes(`leanCopilot.${key}`), key);
});

test("server launch: explicit command, then python -m, then lean-copilot on PATH", () => {
  assert.deepEqual(serverLaunch(["/x/lean-copilot", "serve", "--log-file", "l"], "/py"), {
    command: "/x/lean-copilot",
    args: ["serve", "--log-file", "l"],
  });
  assert.deepEqual(serverLaunch([], " /venv/bin/python "), {
    command: "/venv/bin/python",
    args: ["-m", "lean_copilot_py", "serve"],
  });
  assert.deepEqual(serverLaunch(undefined, ""), { command: "lean-copilot", args: ["serve"] });
  assert.deepEqual(serverLaunch([1, 2], undefined), { command: "lean-copilot", args: ["serve"] });
});

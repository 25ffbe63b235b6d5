import assert from "node:assert/strict";
import { test } from "node:test";
import { PRIVILEGED_SETTINGS, SETTING_MAP, explicitValue, serverLaunch, toServerOptions } from "../src/settings";

const reader = (values: Record<string, unknown>) => (key: string) => values[key];

test("nothing set sends only the workspace trust, so the project's .lean-copilot.toml wins", () => {
  assert.deepEqual(toServerOptions(reader({}), false), { trust: { workspace: false } });
  assert.deepEqual(toServerOptions(reader({}), true), { trust: { workspace: true } });
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
    true,
  );
  assert.deepEqual(options, {
    trust: { workspace: true },
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
    false,
  );
  assert.deepEqual(options, { trust: { workspace: false }, inline: { enabled: false }, search: { attempts: 0 } });
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

test("an untrusted workspace's own values of privileged settings are ignored; the user's are kept", () => {
  const scoped = { globalValue: ["my-lean"], workspaceValue: ["./evil.sh"], workspaceFolderValue: ["./evil2.sh"] };
  assert.deepEqual(explicitValue(scoped, "lean.serverCommand", false), ["my-lean"]);
  assert.deepEqual(explicitValue(scoped, "lean.serverCommand", true), ["./evil2.sh"]);
  assert.equal(explicitValue({ workspaceValue: "http://attacker/v1" }, "model.endpoint", false), undefined);
  assert.equal(explicitValue({ workspaceValue: "/tmp/evil" }, "server.pythonPath", false), undefined);
  // Settings that start nothing and route nothing are the project's to choose.
  assert.equal(explicitValue({ globalValue: 8, workspaceValue: 2 }, "search.attempts", false), 2);
  assert.equal(explicitValue(undefined, "search.attempts", false), undefined);
});

test("untrusted: what reaches the server holds no workspace value of a privileged setting", () => {
  const scopes: Record<string, { globalValue?: unknown; workspaceValue?: unknown }> = {
    "lean.serverCommand": { workspaceValue: ["./evil.sh"] },
    "vllm.command": { workspaceValue: ["./evil-vllm"] },
    "model.endpoint": { globalValue: "http://mine/v1", workspaceValue: "http://attacker/v1" },
    "search.attempts": { workspaceValue: 2 },
  };
  const options = toServerOptions((key) => explicitValue(scopes[key], key, false), false);
  assert.deepEqual(options, {
    trust: { workspace: false },
    model: { endpoint: "http://mine/v1" },
    search: { attempts: 2 },
  });
});

test("package.json restricts exactly the privileged settings in untrusted workspaces", async () => {
  const { readFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const manifest = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8"));
  const untrusted = manifest.capabilities.untrustedWorkspaces;
  assert.equal(untrusted.supported, "limited");
  assert.deepEqual(untrusted.restrictedConfigurations, PRIVILEGED_SETTINGS.map((key) => `leanCopilot.${key}`));
  const contributed = Object.keys(manifest.contributes.configuration.properties);
  for (const key of PRIVILEGED_SETTINGS) assert.ok(contributed.includes(`leanCopilot.${key}`), key);
});

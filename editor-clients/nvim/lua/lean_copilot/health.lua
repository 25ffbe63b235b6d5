-- :checkhealth lean_copilot. Neovim 0.10+ has vim.health.start/ok/…; 0.7–0.9 the report_* names.
local config = require("lean_copilot.config")
local util = require("lean_copilot.util")

local M = {}

---@return table
local function reporter()
  local h = vim.health or require("health")
  return {
    start = h.start or h.report_start,
    ok = h.ok or h.report_ok,
    info = h.info or h.report_info,
    warn = h.warn or h.report_warn,
    error = h.error or h.report_error,
  }
end

function M.check()
  local report = reporter()
  report.start("lean-copilot")
  if vim.fn.has("nvim-0.7") == 1 then
    report.ok("Neovim " .. tostring(vim.version().major) .. "." .. tostring(vim.version().minor))
  else
    report.error("Neovim 0.7 or newer is required")
  end
  if not require("lean_copilot")._setup_done then
    report.warn("require('lean_copilot').setup({...}) has not been called: no buffer will attach")
  end

  local cmd = config.server_cmd(config.current)
  if vim.fn.executable(cmd[1]) == 1 then
    report.ok("server command found: " .. table.concat(cmd, " "))
    if cmd[2] == "-m" then
      local out = vim.fn.system({ cmd[1], "-c", "import lean_copilot_py, sys; sys.stdout.write(lean_copilot_py.__version__)" })
      if vim.v.shell_error == 0 then
        report.ok("lean_copilot_py " .. out .. " importable by " .. cmd[1])
      else
        report.error("lean_copilot_py is not installed for " .. cmd[1], { cmd[1] .. " -m pip install -e /path/to/lean-copilot-py (your checkout; the package is not on PyPI)" })
      end
    end
  else
    report.error("server command not executable: " .. cmd[1],
      { "in your lean-copilot-py checkout run scripts/demo.sh (it makes .venv/), then set python = '<checkout>/.venv/bin/python' in setup({...})" })
  end

  if vim.fn.executable("lake") == 1 then
    report.ok("lake found")
  else
    report.warn("lake not on PATH: the server checks proofs with `lake serve` unless settings.lean.server_command is set")
  end

  -- Where "repair" gets Lean's errors: another Lean client's diagnostics, or the server's own check.
  local settings = config.current.settings or {}
  local checks = type(settings.server) == "table" and settings.server.check_documents == true
  if checks then
    report.ok("repair: the server checks open files itself (settings.server.check_documents)")
  elseif #util.clients("leanls") > 0 or package.loaded["lean"] then
    report.ok("repair: Lean's errors come from your Lean plugin's diagnostics")
  else
    report.info("repair: no Lean plugin seen; set settings = { server = { check_documents = true } } so "
      .. ":LeanCopilot repair knows Lean's errors (a project's .lean-copilot.toml may set it too)")
  end

  local clients = util.clients(require("lean_copilot.client").NAME)
  if #clients > 0 then
    for _, c in ipairs(clients) do
      report.ok(("client %d running (root %s)"):format(c.id, tostring(c.config.root_dir)))
    end
  else
    report.info("no lean-copilot client running (open a .lean file)")
  end
  report.info(require("lean_copilot.handlers").statusline())
end

return M

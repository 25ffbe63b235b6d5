-- The Neovim e2e scenario, run inside headless Neovim after minimal_init.lua:
-- open the fixture's Lean file, wait for our client, `:LeanCopilot <cmd>` on the sorry, wait for the
-- verified proof to land in the buffer, then write what happened as JSON and quit.
-- Inputs (environment): LEAN_COPILOT_E2E_COMMAND (prove|fill|fillsorry), LEAN_COPILOT_E2E_FILE, LEAN_COPILOT_E2E_RESULT, LEAN_COPILOT_E2E_LINE/COL (1-based line, 0-based col).
local util = require("lean_copilot.util")

---@type table<string, any>
local out = { steps = {}, messages = {} }

local function step(name) table.insert(out.steps, name) end

-- Keep every notification: the test prints them when it fails.
local notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(out.messages, { msg = tostring(msg), level = level })
  return notify(msg, level, opts)
end

local lean_buf = nil ---@type integer|nil

local function finish()
  if lean_buf and vim.api.nvim_buf_is_valid(lean_buf) then
    out.text = table.concat(vim.api.nvim_buf_get_lines(lean_buf, 0, -1, true), "\n") .. "\n"
  end
  out.status = require("lean_copilot").statusline()
  local f = assert(io.open(vim.env.LEAN_COPILOT_E2E_RESULT, "w"))
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd("qall!")
end

local ok, err = pcall(function()
  vim.cmd("edit " .. vim.fn.fnameescape(vim.env.LEAN_COPILOT_E2E_FILE))
  lean_buf = vim.api.nvim_get_current_buf()
  out.filetype = vim.bo.filetype
  step("opened")
  out.attached = vim.wait(30000, function() return #util.clients("lean_copilot", 0) > 0 end, 50)
  if not out.attached then return end
  local client = util.clients("lean_copilot", 0)[1]
  -- initialize has answered once server_capabilities is filled in.
  out.initialized = vim.wait(30000, function() return client.initialized or client.server_capabilities ~= nil end, 50)
  step("attached")

  vim.api.nvim_win_set_cursor(0, { tonumber(vim.env.LEAN_COPILOT_E2E_LINE), tonumber(vim.env.LEAN_COPILOT_E2E_COL) })
  local before = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), "\n")
  local done = false
  -- The user-facing command, as typed; its result arrives through the plugin's report().
  local commands = require("lean_copilot.commands")
  local report = commands.report
  commands.report = function(e, result)
    out.result, out.error, done = result, e, true
    report(e, result)
  end
  vim.cmd("LeanCopilot " .. (vim.env.LEAN_COPILOT_E2E_COMMAND or "prove"))
  step("command sent")
  out.finished = vim.wait(90000, function() return done end, 50)
  commands.report = report
  -- workspace/applyEdit precedes the command's answer; give a late edit a moment anyway.
  vim.wait(5000, function() return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), "\n") ~= before end, 50)
  step("command finished")

  -- Inline suggestions: the request must be understood (items may be empty without a model).
  local sugg_done = false
  util.request(client, "leanCopilot/suggestions",
    { textDocument = { uri = vim.uri_from_bufnr(0) }, position = { line = 0, character = 0 } },
    function(e, result) out.suggestions_error, out.suggestions, sugg_done = e, result, true end, 0)
  vim.wait(15000, function() return sugg_done end, 50)
  step("suggestions")

  -- :checkhealth must run without a Lua error on this Neovim.
  local health_ok, health_err = pcall(vim.cmd, "checkhealth lean_copilot")
  out.health_ok = health_ok
  if not health_ok then out.health_error = tostring(health_err) end
  if health_ok then
    out.health = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), "\n")
    vim.cmd("tabclose")
  end
  step("health")

  -- :LeanCopilot restart must bring a new server up on the same buffer.
  local old_id = client.id
  vim.api.nvim_set_current_buf(lean_buf)
  vim.cmd("LeanCopilot restart")
  out.restarted = vim.wait(30000, function()
    local now = util.clients("lean_copilot", lean_buf)[1]
    return now ~= nil and now.id ~= old_id
  end, 50)
  step("restart")
end)
if not ok then out.lua_error = tostring(err) end
finish()

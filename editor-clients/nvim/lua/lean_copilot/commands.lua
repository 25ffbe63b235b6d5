-- :LeanCopilot prove|fill|fillsorry|repair|skeleton|cancel|transcript|suggest|accept|restart|status, built on
-- workspace/executeCommand with the server's leanCopilot.* commands.
local client_mod = require("lean_copilot.client")
local util = require("lean_copilot.util")

local M = {}

---@class LeanCopilotResult
---@field status "proved"|"failed"|"cancelled"|"changed"|"error"|"nothing-to-repair"|"skeleton"
---@field searchId string|nil
---@field message string|nil

---@alias LeanCopilotCallback fun(err: table|nil, result: LeanCopilotResult|nil)

local LEVELS = {
  proved = vim.log.levels.INFO,
  failed = vim.log.levels.WARN,
  changed = vim.log.levels.WARN,
  error = vim.log.levels.ERROR,
  ["nothing-to-repair"] = vim.log.levels.INFO,
  skeleton = vim.log.levels.INFO,
}

--- Tells the user how a search ended; a cancelled search stays quiet (the user asked for it), and a
--- message the server has just shown itself is not repeated.
---@param err table|nil
---@param result LeanCopilotResult|nil
function M.report(err, result)
  if err then
    util.notify(err.message or vim.inspect(err), vim.log.levels.ERROR)
  elseif type(result) == "table" and LEVELS[result.status] then
    require("lean_copilot.handlers").say(result.message or result.status, LEVELS[result.status])
  end
end

---@param bufnr integer
---@return table|nil
local function client_for(bufnr)
  local clients = util.clients(client_mod.NAME, bufnr)
  if #clients == 0 then clients = util.clients(client_mod.NAME) end
  if #clients == 0 then
    util.notify("no lean-copilot server attached (is this a Lean file? see :checkhealth lean_copilot)", vim.log.levels.WARN)
    return nil
  end
  return clients[1]
end

--- Sends workspace/executeCommand; `on_result` (default: report) gets the server's result.
---@param bufnr integer
---@param command string
---@param arguments table
---@param on_result LeanCopilotCallback|nil
---@return boolean sent
function M.execute(bufnr, command, arguments, on_result)
  local client = client_for(bufnr)
  if not client then return false end
  local callback = on_result or M.report
  util.request(client, "workspace/executeCommand", { command = command, arguments = arguments },
    function(err, result) callback(err, result) end, bufnr)
  return true
end

--- {uri, line, character} of the cursor, in the client's position encoding.
---@param client table
---@return table
local function cursor_target(client)
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  return { uri = params.textDocument.uri, line = params.position.line, character = params.position.character }
end

---@param on_result LeanCopilotCallback|nil
---@return boolean
function M.prove(on_result)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then return false end
  util.notify("searching for a proof…")
  return M.execute(bufnr, "leanCopilot.prove", { cursor_target(client) }, on_result)
end

---@param on_result LeanCopilotCallback|nil
---@return boolean
function M.fill_sorry(on_result)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then return false end
  return M.execute(bufnr, "leanCopilot.fillSorry", { cursor_target(client) }, on_result)
end

--- Lean's errors in `bufnr` from other plugins (lean.nvim's diagnostics), as LSP diagnostics in the
--- client's position encoding: what leanCopilot.repair reads besides the server's own check.
---@param bufnr integer
---@param client table
---@return table[]
function M.lean_errors(bufnr, client)
  local out = {}
  local ok, items = pcall(vim.diagnostic.get, bufnr, { severity = vim.diagnostic.severity.ERROR })
  if not ok then return out end
  local encoding = client.offset_encoding or "utf-16"
  local function column(lnum, col)
    local line = vim.api.nvim_buf_get_lines(bufnr, lnum, lnum + 1, false)[1] or ""
    col = math.min(col or 0, #line)
    if encoding == "utf-8" then return col end
    local ok32, utf32, utf16 = pcall(vim.str_utfindex, line, col)
    if not ok32 then return col end
    return encoding == "utf-32" and utf32 or utf16
  end
  for _, d in ipairs(items) do
    if d.source ~= "lean-copilot" then
      local end_lnum = d.end_lnum or d.lnum
      table.insert(out, {
        range = {
          start = { line = d.lnum, character = column(d.lnum, d.col) },
          ["end"] = { line = end_lnum, character = column(end_lnum, d.end_col or d.col) },
        },
        severity = 1,
        message = d.message,
        source = d.source,
      })
    end
  end
  return out
end

--- Repairs the proof of the declaration at the cursor (Lean's errors: other plugins' diagnostics and
--- the server's own check, settings.server.check_documents).
---@param on_result LeanCopilotCallback|nil
---@return boolean
function M.repair(on_result)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then return false end
  local argument = cursor_target(client)
  argument.diagnostics = M.lean_errors(bufnr, client)
  util.notify("repairing the proof at the cursor…")
  return M.execute(bufnr, "leanCopilot.repair", { argument }, on_result)
end

--- Inserts the verified skeleton a failed search kept for the declaration at the cursor.
---@param on_result LeanCopilotCallback|nil
---@return boolean
function M.skeleton(on_result)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = client_for(bufnr)
  if not client then return false end
  return M.execute(bufnr, "leanCopilot.insertSkeleton", { cursor_target(client) }, on_result)
end

---@param on_result LeanCopilotCallback|nil
---@return boolean
function M.fill_all(on_result)
  local bufnr = vim.api.nvim_get_current_buf()
  util.notify("filling every sorry in this file…")
  return M.execute(bufnr, "leanCopilot.fillAllSorries", { { uri = vim.uri_from_bufnr(bufnr) } }, on_result)
end

---@return boolean
function M.cancel()
  return M.execute(vim.api.nvim_get_current_buf(), "leanCopilot.cancel", {}, function(err)
    if err then M.report(err, nil) end
  end)
end

---@return boolean
function M.transcript()
  return M.execute(vim.api.nvim_get_current_buf(), "leanCopilot.showTranscript", {}, function(err)
    if err then M.report(err, nil) end
  end)
end

---@type table<string, fun()>
M.subcommands = {
  prove = function() M.prove() end,
  fill = function() M.fill_all() end,
  fillsorry = function() M.fill_sorry() end,
  repair = function() M.repair() end,
  skeleton = function() M.skeleton() end,
  cancel = function() M.cancel() end,
  transcript = function() M.transcript() end,
  suggest = function() require("lean_copilot.inline").request(vim.api.nvim_get_current_buf()) end,
  accept = function() require("lean_copilot.inline").accept(vim.api.nvim_get_current_buf()) end,
  restart = function()
    client_mod.stop_all()
    require("lean_copilot.handlers").reset_status()
    vim.defer_fn(function() require("lean_copilot").attach_all() end, 500)
  end,
  status = function() util.notify(require("lean_copilot.handlers").statusline()) end,
}

---@param args string
function M.dispatch(args)
  local name = vim.trim(args or "")
  if name == "" then name = "prove" end
  local fn = M.subcommands[name]
  if not fn then
    util.notify("unknown subcommand '" .. name .. "'", vim.log.levels.ERROR)
    return
  end
  fn()
end

---@return string[]
function M.complete(arg_lead)
  local names = vim.tbl_keys(M.subcommands)
  table.sort(names)
  return vim.tbl_filter(function(n) return vim.startswith(n, arg_lead) end, names)
end

return M

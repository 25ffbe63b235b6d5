-- Handlers for what the server sends us: progress, leanCopilot/status, window/showDocument.
-- They wrap Neovim's defaults so other plugins (statuslines reading client.messages) keep working.
local util = require("lean_copilot.util")

local M = {}

---@class LeanCopilotStatus
---@field state "idle"|"searching"|"error"
---@field running integer
---@field message string|nil

---@type LeanCopilotStatus
M.last_status = { state = "idle", running = 0 }

--- Statusline text, e.g. "lean-copilot: searching (2)".
---@return string
function M.statusline()
  local s = M.last_status
  if s.state == "searching" then return ("lean-copilot: searching (%d)"):format(s.running or 1) end
  if s.state == "error" then return "lean-copilot: error" end
  return "lean-copilot: idle"
end

---@param notify_progress boolean
---@return table<string, function>
function M.make(notify_progress)
  local default_progress = vim.lsp.handlers["$/progress"]
  return {
    ["$/progress"] = function(err, result, ctx, config)
      if default_progress then pcall(default_progress, err, result, ctx, config) end
      local value = result and result.value
      if not notify_progress or type(value) ~= "table" then return end
      if value.kind == "begin" then
        util.notify(table.concat({ value.title or "search", value.message or "" }, " "))
      elseif value.kind == "report" then
        local pct = value.percentage and (" " .. value.percentage .. "%") or ""
        -- Reports are frequent: echo without filling :messages.
        vim.api.nvim_echo({ { "lean-copilot: " .. (value.message or "") .. pct } }, false, {})
      elseif value.kind == "end" then
        util.notify(value.message or "done")
      end
    end,
    ["leanCopilot/status"] = function(_, result)
      if type(result) ~= "table" then return end
      local previous = M.last_status.state
      M.last_status = { state = result.state or "idle", running = result.running or 0, message = result.message }
      if result.state == "error" and previous ~= "error" then
        util.notify("error: " .. (result.message or "see :LspLog"), vim.log.levels.ERROR)
      end
      pcall(vim.api.nvim_exec_autocmds, "User", { pattern = "LeanCopilotStatus", modeline = false })
    end,
    -- 0.7 has no window/showDocument handler; the server uses it to open search transcripts.
    ["window/showDocument"] = function(_, result)
      if type(result) ~= "table" or not result.uri then return { success = false } end
      if result.external then
        return { success = false }
      end
      local fname = vim.uri_to_fname(result.uri)
      local ok = pcall(vim.cmd, "split " .. vim.fn.fnameescape(fname))
      return { success = ok }
    end,
  }
end

return M

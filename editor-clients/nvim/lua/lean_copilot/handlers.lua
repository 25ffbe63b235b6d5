-- Handlers for what the server sends us: progress, leanCopilot/status, messages, edits,
-- window/showDocument. Progress wraps Neovim's default so other plugins (statuslines reading
-- client.messages) keep working.
local util = require("lean_copilot.util")

local M = {}

-- What the user was told lately (text -> time). The server shows how a failed search or a batch
-- ended, sends the same text in the status notification and in the command's result: say it once.
local said = {} ---@type table<string, number>
local SAME_MESSAGE_S = 3

--- Tells the user `text` unless they were told exactly that in the last few seconds.
---@param text string
---@param level integer|nil
---@param suffix string|nil appended to what is shown (not part of what is compared)
function M.say(text, level, suffix)
  local now = vim.loop.now() / 1000
  for t, at in pairs(said) do
    if now - at > SAME_MESSAGE_S then said[t] = nil end
  end
  if said[text] then return end
  said[text] = now
  util.notify(text .. (suffix or ""), level)
end

local MESSAGE_LEVELS = { vim.log.levels.ERROR, vim.log.levels.WARN, vim.log.levels.INFO, vim.log.levels.DEBUG }

---@class LeanCopilotStatus
---@field state "idle"|"searching"|"error"
---@field running integer
---@field message string|nil

---@type LeanCopilotStatus
M.last_status = { state = "idle", running = 0 }

--- The next status from a leanCopilot/status notification. An error stays until the next search
--- starts: the server says "idle" right after a search fails, which would hide the error at once.
---@param previous LeanCopilotStatus
---@param incoming table
---@return LeanCopilotStatus
function M.next_status(previous, incoming)
  local state = incoming.state or "idle"
  if state == "idle" and previous.state == "error" then
    return { state = "error", running = 0, message = previous.message }
  end
  return { state = state, running = incoming.running or 0, message = incoming.message }
end

--- Back to idle (a new server).
function M.reset_status()
  M.last_status = { state = "idle", running = 0 }
  pcall(vim.api.nvim_exec_autocmds, "User", { pattern = "LeanCopilotStatus", modeline = false })
end

--- A versioned edit made for an older text of its buffer (the user typed since the server's last
--- didChange). Neovim's own handler skips such an edit yet answers applied = true.
---@param edit table WorkspaceEdit
---@return string|nil uri
local function stale_document(edit)
  local versions = vim.lsp.util.buf_versions or {}
  for _, change in ipairs(edit.documentChanges or {}) do
    local doc = change.textDocument
    if type(doc) == "table" and type(doc.version) == "number" and doc.uri then
      local bufnr = vim.uri_to_bufnr(doc.uri)
      local current = versions[bufnr]
      if vim.api.nvim_buf_is_loaded(bufnr) and type(current) == "number" and current > doc.version then
        return doc.uri
      end
    end
  end
  return nil
end

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
        M.say(value.message or "done")
      end
    end,
    ["leanCopilot/status"] = function(_, result)
      if type(result) ~= "table" then return end
      local previous = M.last_status.state
      M.last_status = M.next_status(M.last_status, result)
      if result.state == "error" and previous ~= "error" then
        -- The server usually shows the same text right after (with its "Show transcript" action,
        -- which gets our hint); this one speaks only for the errors nobody else reports.
        local text = result.message or "error (see :LspLog)"
        vim.defer_fn(function() M.say(text, vim.log.levels.ERROR) end, 200)
      end
      pcall(vim.api.nvim_exec_autocmds, "User", { pattern = "LeanCopilotStatus", modeline = false })
    end,
    -- Through vim.notify (0.7 writes these to the message area raw, prefixed "LSP[lean_copilot]").
    ["window/showMessage"] = function(_, result)
      if type(result) ~= "table" or type(result.message) ~= "string" then return end
      M.say(result.message, MESSAGE_LEVELS[result.type] or vim.log.levels.INFO)
    end,
    -- The server asks this when a search ends without a proof ("Show transcript", "Insert verified
    -- skeleton"). Neovim's handler
    -- blocks in inputlist(), which would take the keys of a user who is typing when a background
    -- search ends; say it instead, with the command that does what the action would.
    ["window/showMessageRequest"] = function(_, result)
      if type(result) ~= "table" or type(result.message) ~= "string" then return vim.NIL end
      local hints = {}
      for _, action in ipairs(result.actions or {}) do
        local title = type(action.title) == "string" and action.title:lower() or ""
        if title:find("skeleton", 1, true) then
          table.insert(hints, ":LeanCopilot skeleton inserts the verified skeleton")
        elseif title:find("transcript", 1, true) then
          table.insert(hints, ":LeanCopilot transcript shows the transcript")
        end
      end
      local hint = #hints > 0 and (" (" .. table.concat(hints, "; ") .. ")") or ""
      M.say(result.message, MESSAGE_LEVELS[result.type] or vim.log.levels.INFO, hint)
      return vim.NIL
    end,
    ["workspace/applyEdit"] = function(_, result, ctx)
      if type(result) ~= "table" or type(result.edit) ~= "table" then
        return { applied = false, failureReason = "no edit" }
      end
      local uri = stale_document(result.edit)
      if uri then
        return { applied = false, failureReason = "the buffer changed after the server last saw it (" .. uri .. ")" }
      end
      local client = vim.lsp.get_client_by_id(ctx.client_id)
      local ok, why = pcall(vim.lsp.util.apply_workspace_edit, result.edit, client and client.offset_encoding or "utf-16")
      return { applied = ok, failureReason = (not ok) and tostring(why) or nil }
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

-- Inline suggestions as virtual text (extmarks), from the server's leanCopilot/suggestions request.
-- Neovim has no native inline completion before 0.12, so the plugin draws and accepts them itself.
local config = require("lean_copilot.config")
local util = require("lean_copilot.util")

local M = {}

local ns = vim.api.nvim_create_namespace("lean_copilot_inline")

---@class LeanCopilotSuggestion
---@field insertText string
---@field range table|nil LSP range replaced by insertText (nil: insert at the request position)
---@field label string|nil

---@class LeanCopilotShown
---@field item LeanCopilotSuggestion
---@field position table LSP position the suggestion was asked for
---@field tick integer b:changedtick when it was asked for
---@field encoding string client offset encoding

---@type table<integer, LeanCopilotShown>
local shown = {}

---@type table<integer, userdata> the auto_trigger timer per buffer
local timers = {}

---@param bufnr integer
function M.clear(bufnr)
  shown[bufnr] = nil
  if vim.api.nvim_buf_is_valid(bufnr) then vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1) end
end

--- The suggestion on screen in `bufnr`, if any (for tests and statuslines).
---@param bufnr integer
---@return LeanCopilotSuggestion|nil
function M.current(bufnr)
  return shown[bufnr] and shown[bufnr].item or nil
end

---@param bufnr integer
---@param row integer 0-based
---@param col integer 0-based byte column
---@param item LeanCopilotSuggestion
local function draw(bufnr, row, col, item)
  local hl = config.current.inline.hl_group
  local lines = vim.split(item.insertText, "\n", { plain = true })
  local opts = { virt_text = { { lines[1], hl } }, virt_text_pos = "eol", hl_mode = "combine" }
  if #lines > 1 then
    local extra = {}
    for i = 2, #lines do table.insert(extra, { { lines[i], hl } }) end
    opts.virt_lines = extra
  end
  vim.api.nvim_buf_set_extmark(bufnr, ns, row, math.min(col, #(vim.api.nvim_buf_get_lines(bufnr, row, row + 1, true)[1])), opts)
end

--- Asks the server for suggestions at the cursor and shows the first one.
---@param bufnr integer
function M.request(bufnr)
  if not config.current.inline.enabled then return end
  local clients = util.clients(require("lean_copilot.client").NAME, bufnr)
  local client = clients[1]
  if not client then return end
  local params = vim.lsp.util.make_position_params(0, client.offset_encoding)
  local tick = vim.api.nvim_buf_get_changedtick(bufnr)
  local cursor = vim.api.nvim_win_get_cursor(0)
  util.request(client, "leanCopilot/suggestions", { textDocument = params.textDocument, position = params.position },
    function(err, result)
      -- Stale answers (the user typed or moved meanwhile) are dropped, not drawn at the wrong place.
      if err or type(result) ~= "table" or type(result.items) ~= "table" or #result.items == 0 then return end
      if not vim.api.nvim_buf_is_valid(bufnr) or vim.api.nvim_buf_get_changedtick(bufnr) ~= tick then return end
      local now = vim.api.nvim_win_get_cursor(0)
      if now[1] ~= cursor[1] or now[2] ~= cursor[2] then return end
      M.clear(bufnr)
      local item = result.items[1]
      shown[bufnr] = { item = item, position = params.position, tick = tick, encoding = client.offset_encoding }
      draw(bufnr, cursor[1] - 1, cursor[2], item)
    end, bufnr)
end

--- Inserts the shown suggestion (replacing its range) and clears it.
---@param bufnr integer
---@return boolean accepted
function M.accept(bufnr)
  local s = shown[bufnr]
  if not s or vim.api.nvim_buf_get_changedtick(bufnr) ~= s.tick then
    M.clear(bufnr)
    return false
  end
  local range = s.item.range or { start = s.position, ["end"] = s.position }
  M.clear(bufnr)
  vim.lsp.util.apply_text_edits({ { range = range, newText = s.item.insertText } }, bufnr, s.encoding)
  return true
end

--- Buffer-local keys and autocmds; called when the client attaches. Insert mode only: in normal mode
--- <C-l> (redraw) and <C-]> (tags) are too useful to take; use :LeanCopilot accept there.
---@param bufnr integer
function M.attach(bufnr)
  local cfg = config.current.inline
  if not cfg.enabled then return end
  if cfg.accept_key then
    vim.keymap.set("i", cfg.accept_key, function()
      if not M.accept(bufnr) then M.request(bufnr) end
    end, { buffer = bufnr, desc = "lean-copilot: accept suggestion (or ask for one)" })
  end
  if cfg.dismiss_key then
    vim.keymap.set("i", cfg.dismiss_key, function() M.clear(bufnr) end,
      { buffer = bufnr, desc = "lean-copilot: dismiss suggestion" })
  end
  local group = vim.api.nvim_create_augroup("lean_copilot_inline_" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "TextChanged", "TextChangedI", "InsertLeave", "BufLeave" }, {
    group = group, buffer = bufnr, callback = function() M.clear(bufnr) end,
  })
  if cfg.auto_trigger then
    -- A timer that every keystroke and cursor move restarts, not CursorHold/CursorHoldI: Neovim fires
    -- those only when its event loop stays idle for 'updatetime', and LSP traffic (Lean's progress
    -- notifications while it elaborates) keeps waking it, so the suggestion would never come.
    local timer = timers[bufnr] or vim.loop.new_timer() -- one per buffer, also across re-attaches
    timers[bufnr] = timer
    local function rested()
      local mode = vim.api.nvim_get_mode().mode:sub(1, 1)
      if vim.api.nvim_get_current_buf() == bufnr and (mode == "i" or mode == "n") and not shown[bufnr] then
        M.request(bufnr)
      end
    end
    vim.api.nvim_create_autocmd({ "CursorMoved", "CursorMovedI", "TextChanged", "TextChangedI", "InsertEnter" }, {
      group = group, buffer = bufnr,
      callback = function()
        timer:stop()
        timer:start(vim.o.updatetime, 0, vim.schedule_wrap(rested))
      end,
    })
    vim.api.nvim_create_autocmd("BufLeave", { group = group, buffer = bufnr, callback = function() timer:stop() end })
    vim.api.nvim_create_autocmd({ "BufWipeout", "BufDelete" }, {
      group = group, buffer = bufnr,
      callback = function()
        timer:stop()
        if not timer:is_closing() then timer:close() end
        timers[bufnr] = nil
      end,
    })
  end
end

return M

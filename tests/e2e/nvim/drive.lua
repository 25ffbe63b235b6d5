-- Neovim e2e scenarios driven with the keyboard, run inside headless Neovim after minimal_init.lua.
-- Keys go through nvim_input, so Neovim handles them as typed: mappings (the <C-l> accept key), the
-- command line (`:LeanCopilot cancel`), insert mode and its autocommands all run for real. The scenario
-- is a coroutine that yields to the event loop between steps, so the LSP traffic flows meanwhile.
-- Inputs (environment): LEAN_COPILOT_E2E_SCENARIO (inline | inline_auto | fill_all | cancel | error | repair),
-- LEAN_COPILOT_E2E_FILE, LEAN_COPILOT_E2E_RESULT, LEAN_COPILOT_E2E_LINE/COL (1-based line, 0-based col).
-- Writes what happened as JSON; the assertions live in tests/e2e/test_nvim_e2e.py.
local util = require("lean_copilot.util")
local commands = require("lean_copilot.commands")

---@type table<string, any>
local out = { steps = {}, messages = {}, results = {}, statuses = {} }
local started = vim.loop.hrtime()
local function now_s() return (vim.loop.hrtime() - started) / 1e9 end
local function step(name) table.insert(out.steps, ("%s @%.1fs"):format(name, now_s())) end

-- Every notification the user would see.
local notify = vim.notify
vim.notify = function(msg, level, opts)
  table.insert(out.messages, { msg = tostring(msg), level = level })
  return notify(msg, level, opts)
end

-- The statusline as a user configures it (`:help lean_copilot-api`), evaluated as Neovim draws it.
vim.o.laststatus = 2
vim.o.statusline = "%!v:lua.require'lean_copilot'.statusline()"
local function statusline() return vim.api.nvim_eval_statusline(vim.o.statusline, {}).str end

-- Results of the searches the typed commands start (the plugin hands them to commands.report).
local report = commands.report
commands.report = function(err, result)
  table.insert(out.results, { error = err, result = result, at = now_s() })
  report(err, result)
end

local co ---@type thread
local lean_buf = nil ---@type integer|nil

local function resume()
  local ok, err = coroutine.resume(co)
  if not ok then
    out.lua_error = tostring(err) .. "\n" .. debug.traceback(co)
  end
  if coroutine.status(co) == "dead" then
    if lean_buf and vim.api.nvim_buf_is_valid(lean_buf) then
      out.text = table.concat(vim.api.nvim_buf_get_lines(lean_buf, 0, -1, true), "\n") .. "\n"
      out.modified = vim.bo[lean_buf].modified
    end
    out.status = statusline()
    local f = assert(io.open(vim.env.LEAN_COPILOT_E2E_RESULT, "w"))
    f:write(vim.fn.json_encode(out))
    f:close()
    vim.cmd("qall!")
  end
end

--- Lets the event loop run for `ms`.
local function sleep(ms)
  vim.defer_fn(resume, ms)
  coroutine.yield()
end

--- Polls `cond` every 50 ms until it is truthy (returns its value) or `ms` pass (returns nil).
local function wait_for(ms, cond)
  local deadline = now_s() + ms / 1000
  while true do
    local value = cond()
    if value then return value end
    if now_s() > deadline then return nil end
    sleep(50)
  end
end

--- Types `keys` (Neovim key notation) as the user would.
local function type_keys(keys)
  vim.api.nvim_input(keys)
  sleep(50)
end

local function buf_text() return table.concat(vim.api.nvim_buf_get_lines(lean_buf, 0, -1, true), "\n") .. "\n" end
local function record_status(label) out.statuses[label] = statusline() end

local function open_and_attach()
  vim.cmd("edit " .. vim.fn.fnameescape(vim.env.LEAN_COPILOT_E2E_FILE))
  lean_buf = vim.api.nvim_get_current_buf()
  out.filetype = vim.bo.filetype
  out.original = buf_text()
  out.attached = wait_for(30000, function() return #util.clients("lean_copilot", lean_buf) > 0 end) ~= nil
  if not out.attached then error("the lean-copilot client never attached") end
  local client = util.clients("lean_copilot", lean_buf)[1]
  if not wait_for(30000, function() return client.initialized or client.server_capabilities ~= nil end) then
    error("initialize never answered")
  end
  step("attached")
  record_status("attached")
  return client
end

local function cursor_to_target()
  vim.api.nvim_win_set_cursor(0, { tonumber(vim.env.LEAN_COPILOT_E2E_LINE), tonumber(vim.env.LEAN_COPILOT_E2E_COL) })
end

local ns = vim.api.nvim_create_namespace("lean_copilot_inline")
local function virtual_text()
  local texts = {}
  for _, mark in ipairs(vim.api.nvim_buf_get_extmarks(lean_buf, ns, 0, -1, { details = true })) do
    for _, chunk in ipairs(mark[4].virt_text or {}) do table.insert(texts, chunk[1]) end
  end
  return table.concat(texts, "")
end

local scenarios = {}

-- A new line after `by`, its indent typed, <C-l> asks (nothing shown yet), the verified tactic appears
-- as virtual text, <C-l> again accepts it; then the user keeps typing where the cursor was left.
function scenarios.inline()
  open_and_attach()
  cursor_to_target()
  type_keys("o  ")
  out.mode_before = vim.api.nvim_get_mode().mode
  type_keys("<C-l>")
  out.virtual_text = wait_for(20000, function()
    local text = virtual_text()
    return text ~= "" and text or nil
  end)
  out.shown_line = vim.api.nvim_get_current_line()
  step("suggestion shown")
  type_keys("<C-l>")
  wait_for(5000, function() return vim.api.nvim_get_current_line() ~= out.shown_line end)
  out.accepted_line = vim.api.nvim_get_current_line()
  out.virtual_text_after = virtual_text()
  out.mode_after = vim.api.nvim_get_mode().mode
  -- Typing goes on after the accepted text, as with any completion.
  type_keys(" -- done")
  out.typed_line = vim.api.nvim_get_current_line()
  type_keys("<Esc>")
  type_keys(":write<CR>")
  wait_for(5000, function() return not vim.bo[lean_buf].modified end)
  step("saved")
end

-- auto_trigger: the suggestion appears by itself once the cursor rests ('updatetime') after the indent is
-- typed; <C-l> accepts it.
function scenarios.inline_auto()
  open_and_attach()
  cursor_to_target()
  type_keys("o  ")
  out.mode_before = vim.api.nvim_get_mode().mode
  out.shown_line = vim.api.nvim_get_current_line()
  -- This polls every 50 ms, which keeps Neovim's event loop busy as LSP traffic does: CursorHoldI
  -- would never fire under it.
  out.virtual_text = wait_for(20000, function()
    local text = virtual_text()
    return text ~= "" and text or nil
  end)
  step("suggestion shown")
  type_keys("<C-l>")
  wait_for(5000, function() return vim.api.nvim_get_current_line() ~= out.shown_line end)
  out.accepted_line = vim.api.nvim_get_current_line()
  out.virtual_text_after = virtual_text()
  type_keys("<Esc>")
end

-- `:LeanCopilot fill` on a file with two sorries: both are replaced by verified proofs.
function scenarios.fill_all()
  open_and_attach()
  type_keys(":LeanCopilot fill<CR>")
  out.saw_searching = wait_for(20000, function()
    local s = statusline()
    return s:find("searching", 1, true) and s or nil
  end)
  wait_for(60000, function() return #out.results > 0 end)
  wait_for(5000, function() return not buf_text():find("sorry", 1, true) end)
  step("filled")
  wait_for(5000, function() return statusline():find("idle", 1, true) end)
  record_status("after")
end

-- A search Lean never finishes, cancelled with `:LeanCopilot cancel`: the search ends, nothing is
-- applied, the buffer is what the user had.
function scenarios.cancel()
  open_and_attach()
  cursor_to_target()
  type_keys(":LeanCopilot prove<CR>")
  out.searching = wait_for(20000, function()
    local s = statusline()
    return s:find("searching", 1, true) and s or nil
  end)
  step("searching")
  sleep(1500) -- well inside the hung check
  out.still_searching = statusline()
  out.results_before_cancel = #out.results
  local cancel_at = now_s()
  type_keys(":LeanCopilot cancel<CR>")
  wait_for(10000, function() return #out.results > 0 end)
  out.idle = wait_for(10000, function()
    local s = statusline()
    return s:find("idle", 1, true) and s or nil
  end)
  out.cancel_took_s = now_s() - cancel_at
  step("cancelled")
  sleep(3000) -- a late edit would land here
  out.text_after_wait = buf_text()
end

-- Every check crashes Lean's worker: the search ends in an error, the statusline says so (and keeps
-- saying so until something else happens), `:LeanCopilot restart` brings a fresh server and idle.
function scenarios.error()
  local client = open_and_attach()
  cursor_to_target()
  type_keys(":LeanCopilot prove<CR>")
  wait_for(60000, function() return #out.results > 0 end)
  step("search ended")
  out.error_status = wait_for(5000, function()
    local s = statusline()
    return s:find("error", 1, true) and s or nil
  end)
  sleep(1500)
  record_status("error_later")
  -- What the error message points to: the search's transcript, opened in a split.
  type_keys(":LeanCopilot transcript<CR>")
  out.transcript = wait_for(10000, function()
    local name = vim.api.nvim_buf_get_name(0)
    return name:match("%.md$") and name or nil
  end)
  if out.transcript then out.transcript_text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, true), "\n") end
  step("transcript")
  type_keys("<C-w>p")
  local old_id = client.id
  type_keys(":LeanCopilot restart<CR>")
  out.restarted = wait_for(30000, function()
    local c = util.clients("lean_copilot", lean_buf)[1]
    return c ~= nil and c.id ~= old_id and (c.initialized or c.server_capabilities ~= nil)
  end) ~= nil
  out.after_restart = wait_for(5000, function()
    local s = statusline()
    return s:find("idle", 1, true) and s or nil
  end)
  step("restarted")
end

-- `:LeanCopilot repair` on a proof Lean rejects. No Lean plugin runs here: the server's own check
-- (settings.server.check_documents, minimal_init.lua) knows the error once it has checked the file, so
-- the command is typed again while the server says it knows none yet.
function scenarios.repair()
  open_and_attach()
  cursor_to_target()
  out.repair_tries = 0
  local result = nil
  local deadline = now_s() + 60
  while now_s() < deadline do
    local before = #out.results
    out.repair_tries = out.repair_tries + 1
    type_keys(":LeanCopilot repair<CR>")
    wait_for(60000, function() return #out.results > before end)
    result = out.results[#out.results] and out.results[#out.results].result
    local message = type(result) == "table" and result.message or ""
    if not (type(result) == "table" and result.status == "failed" and message:find("no Lean errors known", 1, true)) then
      break
    end
    sleep(500)
  end
  out.repair_result = result
  wait_for(5000, function() return not buf_text():find("Nat.add_comm b a", 1, true) end)
  step("repaired")
  type_keys(":write<CR>")
  wait_for(5000, function() return not vim.bo[lean_buf].modified end)
end

co = coroutine.create(function()
  local name = vim.env.LEAN_COPILOT_E2E_SCENARIO
  out.scenario = name
  local run = scenarios[name]
  if not run then error("unknown scenario " .. tostring(name)) end
  run()
end)
resume()

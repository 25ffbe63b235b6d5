-- Unit checks of the plugin's pure parts, in headless Neovim (no server). Run by
-- tests/e2e/test_nvim_plugin.py; prints "OK <n>" or raises (exit code 1 via cquit).
local repo = vim.env.LEAN_COPILOT_REPO or vim.fn.getcwd()
vim.opt.runtimepath:prepend(repo .. "/editor-clients/nvim")
vim.cmd("runtime plugin/lean_copilot.lua")

local passed = 0
---@param name string
---@param fn fun()
local function check(name, fn)
  local ok, err = pcall(fn)
  if not ok then
    io.stderr:write("FAIL " .. name .. ": " .. tostring(err) .. "\n")
    vim.cmd("cquit 1")
  end
  passed = passed + 1
end

local config = require("lean_copilot.config")
local util = require("lean_copilot.util")
local commands = require("lean_copilot.commands")

check("defaults send no settings, so .lean-copilot.toml decides", function()
  local cfg = config.merge({})
  assert(vim.tbl_isempty(cfg.settings))
  assert(cfg.inline.enabled == true and cfg.inline.auto_trigger == false)
end)

check("server command: cmd > python -m > lean-copilot", function()
  assert(vim.deep_equal(config.server_cmd(config.merge({})), { "lean-copilot", "serve" }))
  assert(vim.deep_equal(config.server_cmd(config.merge({ python = "/v/bin/python" })),
    { "/v/bin/python", "-m", "lean_copilot_py", "serve" }))
  assert(vim.deep_equal(config.server_cmd(config.merge({ cmd = { "x", "serve" }, python = "/p" })), { "x", "serve" }))
end)

check("lists replace defaults instead of merging element-wise", function()
  local cfg = config.merge({ root_markers = { "lakefile.lean" }, inline = { accept_key = false } })
  assert(vim.deep_equal(cfg.root_markers, { "lakefile.lean" }))
  assert(cfg.inline.accept_key == false and cfg.inline.enabled == true)
end)

check("nested server settings pass through unchanged", function()
  local settings = { model = { backend = "none" }, search = { attempts = 2, deadline_s = 5 } }
  assert(vim.deep_equal(config.merge({ settings = settings }).settings, settings))
end)

check("find_root walks up to the Lake project", function()
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir .. "/Sub/Deep", "p")
  vim.fn.writefile({ 'name = "x"' }, dir .. "/lakefile.toml")
  local root = util.find_root(dir .. "/Sub/Deep/A.lean", { "lakefile.toml" })
  assert(root == vim.fn.fnamemodify(dir, ":p"):gsub("/$", ""), tostring(root))
  assert(util.find_root("/", { "no-such-marker-file" }) == nil)
end)

check(".lean files get the lean filetype", function()
  local file = vim.fn.tempname() .. ".lean"
  vim.fn.writefile({ "theorem t : True := trivial" }, file)
  vim.cmd("edit " .. file)
  assert(vim.bo.filetype == "lean", vim.bo.filetype)
  vim.cmd("bwipeout!")
end)

check(":LeanCopilot completes its subcommands", function()
  local all = commands.complete("")
  for _, name in ipairs({ "prove", "fill", "repair", "skeleton", "cancel", "transcript" }) do
    assert(vim.tbl_contains(all, name), name)
  end
  assert(vim.deep_equal(commands.complete("tr"), { "transcript" }))
end)

check("commands without an attached server warn instead of failing", function()
  local seen = {}
  local notify = vim.notify
  vim.notify = function(msg) table.insert(seen, msg) end
  local sent = commands.prove()
  vim.notify = notify
  assert(sent == false)
  assert(seen[1]:match("no lean%-copilot server"), seen[1])
end)

check("results map to notification levels; cancelled is silent", function()
  local seen = {}
  local notify = vim.notify
  vim.notify = function(msg, level) table.insert(seen, { msg, level }) end
  commands.report(nil, { status = "proved", message = "lean-copilot: proved `t`." })
  commands.report(nil, { status = "failed", message = "no proof" })
  commands.report(nil, { status = "cancelled" })
  commands.report({ message = "boom" }, nil)
  vim.notify = notify
  assert(#seen == 3, vim.inspect(seen))
  assert(seen[1][1] == "lean-copilot: proved `t`." and seen[1][2] == vim.log.levels.INFO)
  assert(seen[2][2] == vim.log.levels.WARN and seen[3][2] == vim.log.levels.ERROR)
end)

check("status notifications feed the statusline", function()
  local handlers = require("lean_copilot.handlers")
  local h = handlers.make(false)
  h["leanCopilot/status"](nil, { state = "searching", running = 2 })
  assert(handlers.statusline() == "lean-copilot: searching (2)")
  h["leanCopilot/status"](nil, { state = "idle", running = 0 })
  assert(handlers.statusline() == "lean-copilot: idle")
end)

check("an error stays in the statusline until the next search starts", function()
  local handlers = require("lean_copilot.handlers")
  local h = handlers.make(false)
  h["leanCopilot/status"](nil, { state = "searching", running = 1 })
  h["leanCopilot/status"](nil, { state = "error", running = 1, message = "Lean could not be used" })
  h["leanCopilot/status"](nil, { state = "idle", running = 0 })
  assert(handlers.statusline() == "lean-copilot: error", handlers.statusline())
  assert(handlers.last_status.message == "Lean could not be used")
  h["leanCopilot/status"](nil, { state = "searching", running = 1 })
  assert(handlers.statusline() == "lean-copilot: searching (1)")
  h["leanCopilot/status"](nil, { state = "idle", running = 0 })
  assert(handlers.statusline() == "lean-copilot: idle")
  h["leanCopilot/status"](nil, { state = "error", running = 0 })
  handlers.reset_status()
  assert(handlers.statusline() == "lean-copilot: idle")
end)

check("the same message from the server and the command's result is said once", function()
  local handlers = require("lean_copilot.handlers")
  local seen = {}
  local notify = vim.notify
  vim.notify = function(msg, level) table.insert(seen, { msg, level }) end
  local h = handlers.make(false)
  h["window/showMessage"](nil, { type = 2, message = "lean-copilot: no verified proof of `t`" })
  commands.report(nil, { status = "failed", message = "lean-copilot: no verified proof of `t`" })
  commands.report(nil, { status = "failed", message = "lean-copilot: something else" })
  vim.notify = notify
  assert(#seen == 2, vim.inspect(seen))
  assert(seen[1][1] == "lean-copilot: no verified proof of `t`" and seen[1][2] == vim.log.levels.WARN)
end)

check("showMessageRequest does not block: it says the message and names the command", function()
  local handlers = require("lean_copilot.handlers")
  local seen = {}
  local notify = vim.notify
  vim.notify = function(msg, level) table.insert(seen, { msg, level }) end
  local answer = handlers.make(false)["window/showMessageRequest"](nil,
    { type = 1, message = "lean-copilot: boom", actions = { { title = "Show transcript" } } })
  vim.notify = notify
  assert(answer == vim.NIL)
  assert(seen[1][1] == "lean-copilot: boom (:LeanCopilot transcript shows the transcript)", vim.inspect(seen))
  assert(seen[1][2] == vim.log.levels.ERROR)
end)

check("a failure that kept a skeleton names :LeanCopilot skeleton beside the transcript", function()
  local handlers = require("lean_copilot.handlers")
  local seen = {}
  local notify = vim.notify
  vim.notify = function(msg, level) table.insert(seen, { msg, level }) end
  handlers.make(false)["window/showMessageRequest"](nil, { type = 2, message = "lean-copilot: no proof; 1 sorry left",
    actions = { { title = "Insert verified skeleton (1 sorry left)" }, { title = "Show transcript" } } })
  vim.notify = notify
  assert(seen[1][1] == "lean-copilot: no proof; 1 sorry left (:LeanCopilot skeleton inserts the verified skeleton; "
    .. ":LeanCopilot transcript shows the transcript)", vim.inspect(seen))
end)

check("repair sends Lean's errors from other plugins' diagnostics in UTF-16 columns", function()
  local file = vim.fn.tempname() .. ".lean"
  vim.fn.writefile({ "theorem t : True := by", "  exact 𝔸 foo" }, file)
  vim.cmd("edit " .. file)
  local buf = vim.api.nvim_get_current_buf()
  local ns = vim.api.nvim_create_namespace("lean_copilot_unit_diags")
  -- byte columns, as vim.diagnostic holds them: `foo` starts at byte 12 (𝔸 is 4 bytes, 2 UTF-16 units)
  vim.diagnostic.set(ns, buf, {
    { lnum = 1, col = 12, end_lnum = 1, end_col = 15, severity = vim.diagnostic.severity.ERROR, message = "unknown", source = "Lean 4" },
    { lnum = 1, col = 2, end_lnum = 1, end_col = 7, severity = vim.diagnostic.severity.WARN, message = "a warning" },
    { lnum = 1, col = 2, end_lnum = 1, end_col = 7, severity = vim.diagnostic.severity.ERROR, message = "ours", source = "lean-copilot" },
  })
  local errors = commands.lean_errors(buf, { offset_encoding = "utf-16" })
  assert(#errors == 1, vim.inspect(errors))
  assert(errors[1].message == "unknown" and errors[1].severity == 1, vim.inspect(errors))
  assert(errors[1].range.start.character == 10 and errors[1].range["end"].character == 13, vim.inspect(errors))
  vim.diagnostic.reset(ns, buf)
  vim.cmd("bwipeout!")
end)

check("an edit for an older version of the buffer is refused, not skipped as applied", function()
  local handlers = require("lean_copilot.handlers")
  local apply = handlers.make(false)["workspace/applyEdit"]
  local file = vim.fn.tempname() .. ".lean"
  vim.fn.writefile({ "theorem t : True := by", "  sorry" }, file)
  vim.cmd("edit " .. file)
  local buf = vim.api.nvim_get_current_buf()
  local uri = vim.uri_from_bufnr(buf)
  vim.lsp.util.buf_versions[buf] = 7 -- what the client last sent (didChange version)
  local function edit(version)
    return { edit = { documentChanges = { { textDocument = { uri = uri, version = version }, edits = { {
      range = { start = { line = 1, character = 2 }, ["end"] = { line = 1, character = 7 } }, newText = "trivial" } } } } } }
  end
  local stale = apply(nil, edit(5), { client_id = -1 })
  assert(stale.applied == false and stale.failureReason:match("changed"), vim.inspect(stale))
  assert(vim.api.nvim_buf_get_lines(buf, 1, 2, true)[1] == "  sorry")
  local fresh = apply(nil, edit(7), { client_id = -1 })
  assert(fresh.applied == true, vim.inspect(fresh))
  assert(vim.api.nvim_buf_get_lines(buf, 1, 2, true)[1] == "  trivial")
  vim.lsp.util.buf_versions[buf] = nil
  vim.cmd("bwipeout!")
end)

check("health module loads on this Neovim's health API", function()
  local health = require("lean_copilot.health")
  assert(type(health.check) == "function")
end)

check("inline: a suggestion is drawn as virtual text and accepted into the buffer", function()
  config.merge({})
  local inline = require("lean_copilot.inline")
  vim.cmd("enew")
  local buf = vim.api.nvim_get_current_buf()
  vim.api.nvim_buf_set_lines(buf, 0, -1, true, { "theorem t : 1 + 1 = 2 := by", "  x" })
  vim.api.nvim_win_set_cursor(0, { 2, 2 })
  -- A stand-in client answering leanCopilot/suggestions synchronously.
  local clients, request = util.clients, util.request
  util.clients = function() return { { id = 1, offset_encoding = "utf-16" } } end
  util.request = function(_, method, params, handler)
    assert(method == "leanCopilot/suggestions" and params.position.line == 1 and params.position.character == 2)
    handler(nil, { items = { { insertText = "norm_num", label = "norm_num",
      range = { start = { line = 1, character = 2 }, ["end"] = { line = 1, character = 3 } } } } })
  end
  inline.request(buf)
  util.clients, util.request = clients, request
  assert(inline.current(buf) and inline.current(buf).insertText == "norm_num")
  local ns = vim.api.nvim_create_namespace("lean_copilot_inline")
  local marks = vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })
  assert(#marks == 1 and marks[1][4].virt_text[1][1] == "norm_num", vim.inspect(marks))
  assert(inline.accept(buf))
  assert(vim.api.nvim_buf_get_lines(buf, 1, 2, true)[1] == "  norm_num")
  assert(#vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, {}) == 0)
  assert(inline.accept(buf) == false) -- nothing left to accept
  vim.cmd("bwipeout!")
end)

io.stdout:write("OK " .. passed .. "\n")
vim.cmd("qall!")

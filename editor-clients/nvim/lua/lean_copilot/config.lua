-- Configuration: defaults, validation and merging of the user's setup({...}) table.

---@class LeanCopilotInlineConfig
---@field enabled boolean Show inline suggestions (virtual text) in Lean buffers.
---@field auto_trigger boolean Ask for suggestions when the cursor rests (CursorHold/CursorHoldI).
---@field accept_key string|false Insert-mode key that accepts the shown suggestion; false: no mapping.
---@field dismiss_key string|false Insert-mode key that hides the shown suggestion; false: no mapping.
---@field hl_group string Highlight group of the suggestion text.

---@class LeanCopilotConfig
---@field cmd string[]|nil Command that starts the server; nil: `python -m lean_copilot_py serve` or `lean-copilot serve`.
---@field python string|nil Python interpreter with lean-copilot-py installed (used when `cmd` is nil).
---@field filetypes string[] Filetypes the client attaches to.
---@field root_markers string[] Files that mark a Lake project root.
---@field settings table<string, table> Server settings tree (sections model/search/lean/inline/... of settings.py), sent as initializationOptions. Empty: the project's .lean-copilot.toml decides.
---@field inline LeanCopilotInlineConfig
---@field notify_progress boolean Echo search progress from the server.
---@field on_attach fun(client: table, bufnr: integer)|nil Called when the client attaches to a buffer.

local M = {}

---@type LeanCopilotConfig
M.defaults = {
  cmd = nil,
  python = nil,
  filetypes = { "lean" },
  root_markers = { "lakefile.toml", "lakefile.lean", "lean-toolchain" },
  settings = {},
  inline = {
    enabled = true,
    auto_trigger = false,
    accept_key = "<C-l>",
    dismiss_key = "<C-]>",
    hl_group = "Comment",
  },
  notify_progress = true,
  on_attach = nil,
}

---@type LeanCopilotConfig
M.current = vim.deepcopy(M.defaults)

--- Merges the user's options over the defaults; unknown keys are reported, not fatal.
---@param opts table|nil
---@return LeanCopilotConfig
function M.merge(opts)
  opts = opts or {}
  for key, _ in pairs(opts) do
    if M.defaults[key] == nil and key ~= "cmd" and key ~= "python" and key ~= "on_attach" then
      vim.notify("lean_copilot: unknown option '" .. tostring(key) .. "'", vim.log.levels.WARN)
    end
  end
  local merged = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts)
  -- Lists replace, never merge element-wise (tbl_deep_extend would mix two commands).
  if opts.cmd then merged.cmd = opts.cmd end
  if opts.filetypes then merged.filetypes = opts.filetypes end
  if opts.root_markers then merged.root_markers = opts.root_markers end
  M.current = merged
  return merged
end

--- The command that starts the server.
---@param config LeanCopilotConfig
---@return string[]
function M.server_cmd(config)
  if type(config.cmd) == "table" and #config.cmd > 0 then return config.cmd end
  if type(config.python) == "string" and config.python ~= "" then
    return { config.python, "-m", "lean_copilot_py", "serve" }
  end
  return { "lean-copilot", "serve" }
end

return M

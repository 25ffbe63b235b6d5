-- lean-copilot for Neovim: a second LSP client on Lean buffers (beside lean.nvim) that runs
-- `lean-copilot serve` and offers Lean-verified proofs.
local config = require("lean_copilot.config")
local client = require("lean_copilot.client")
local commands = require("lean_copilot.commands")

local M = {}

M._setup_done = false

--- Attaches the client to every loaded buffer of a configured filetype: buffers opened before
--- setup() on 0.7–0.10, and after `:LeanCopilot restart` on every version (vim.lsp.enable only
--- starts clients on the next FileType event).
function M.attach_all()
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and vim.tbl_contains(config.current.filetypes, vim.bo[bufnr].filetype) then
      client.attach(bufnr, config.current)
    end
  end
end

--- Configures the plugin and starts attaching to Lean buffers.
---@param opts LeanCopilotConfig|table|nil
function M.setup(opts)
  local cfg = config.merge(opts)
  M._setup_done = true
  if vim.lsp.config and vim.lsp.enable then -- 0.11+
    client.enable_native(cfg)
    return
  end
  local group = vim.api.nvim_create_augroup("lean_copilot", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = cfg.filetypes,
    callback = function(args) client.attach(args.buf, config.current) end,
  })
  M.attach_all() -- buffers opened before setup()
end

--- Replaces the server settings tree and sends it to running servers.
---@param settings table<string, table>
function M.update_settings(settings)
  config.current.settings = settings
  client.push_settings(settings)
end

M.prove = commands.prove
M.fill_sorry = commands.fill_sorry
M.fill_all = commands.fill_all
M.repair = commands.repair
M.skeleton = commands.skeleton
M.cancel = commands.cancel
M.transcript = commands.transcript
M.statusline = function() return require("lean_copilot.handlers").statusline() end

return M

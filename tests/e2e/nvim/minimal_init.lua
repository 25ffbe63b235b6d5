-- Minimal Neovim config for the e2e: only our plugin, the server command from the environment.
-- Run as: nvim --headless --clean -u tests/e2e/nvim/minimal_init.lua ...
local repo = vim.env.LEAN_COPILOT_REPO or vim.fn.getcwd()
vim.opt.runtimepath:prepend(repo .. "/editor-clients/nvim")
vim.opt.swapfile = false
vim.opt.shadafile = "NONE"
vim.cmd("runtime plugin/lean_copilot.lua")

local cmd = vim.env.LEAN_COPILOT_SERVER_CMD and vim.fn.json_decode(vim.env.LEAN_COPILOT_SERVER_CMD) or nil
-- LEAN_COPILOT_E2E_AUTO=1: suggestions come by themselves when the cursor rests ('updatetime').
local auto = vim.env.LEAN_COPILOT_E2E_AUTO == "1"
if auto then vim.o.updatetime = 300 end
-- LEAN_COPILOT_E2E_CHECK=1: the server checks files itself (no Lean plugin here reports Lean's errors).
local settings = {}
if vim.env.LEAN_COPILOT_E2E_CHECK == "1" then
  settings.server = { check_documents = true, check_delay_s = 0.2 }
end
require("lean_copilot").setup({
  cmd = cmd,
  inline = { enabled = true, auto_trigger = auto },
  settings = settings,
})

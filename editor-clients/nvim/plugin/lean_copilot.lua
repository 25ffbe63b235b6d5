-- Loaded at startup: filetype detection and the :LeanCopilot command. Attaching starts with setup().
if vim.g.loaded_lean_copilot then return end
vim.g.loaded_lean_copilot = true

-- Neovim before 0.10 does not know .lean files; lean.nvim sets the same filetype when installed.
if vim.filetype and vim.filetype.add and vim.fn.has("nvim-0.8") == 1 then
  vim.filetype.add({ extension = { lean = "lean" } })
else
  vim.api.nvim_create_autocmd({ "BufRead", "BufNewFile" }, {
    pattern = "*.lean",
    command = "setfiletype lean",
  })
end

vim.api.nvim_create_user_command("LeanCopilot", function(args)
  require("lean_copilot.commands").dispatch(args.args)
end, {
  nargs = "?",
  complete = function(arg_lead) return require("lean_copilot.commands").complete(arg_lead) end,
  desc = "lean-copilot: prove | fill | fillsorry | repair | skeleton | cancel | transcript | suggest | accept | restart | status",
})

-- Starting the server and attaching it to Lean buffers, across Neovim versions:
-- 0.11+ vim.lsp.config/enable, 0.8–0.10 vim.lsp.start, 0.7 vim.lsp.start_client + buf_attach_client.
local config = require("lean_copilot.config")
local handlers = require("lean_copilot.handlers")
local util = require("lean_copilot.util")

local M = {}

M.NAME = "lean_copilot"

---@type table<string, integer> client id per project root (0.7 path only)
local by_root = {}

---@return table
local function capabilities()
  local caps = vim.lsp.protocol.make_client_capabilities()
  caps.window = caps.window or {}
  caps.window.workDoneProgress = true
  caps.window.showDocument = { support = true }
  caps.workspace = caps.workspace or {}
  caps.workspace.applyEdit = true
  return caps
end

--- The client configuration shared by every start path.
---@param cfg LeanCopilotConfig
---@param root string|nil
---@return table
function M.client_config(cfg, root)
  return {
    name = M.NAME,
    cmd = config.server_cmd(cfg),
    root_dir = root,
    init_options = cfg.settings,
    settings = { leanCopilot = cfg.settings },
    capabilities = capabilities(),
    -- didChange at once, not 150 ms later: the server must see a proof we applied before it hears
    -- that we applied it (fill-all picks the next sorry from its copy of the text), and a suggestion
    -- request must see what was just typed. Our server is cheap per change.
    flags = { debounce_text_changes = 0 },
    handlers = handlers.make(cfg.notify_progress),
    on_attach = function(client, bufnr)
      require("lean_copilot.inline").attach(bufnr)
      if cfg.on_attach then cfg.on_attach(client, bufnr) end
    end,
  }
end

--- 0.11+: register the config once; Neovim attaches it to matching buffers itself.
---@param cfg LeanCopilotConfig
function M.enable_native(cfg)
  local client_cfg = M.client_config(cfg, nil)
  client_cfg.root_dir = nil
  client_cfg.filetypes = cfg.filetypes
  client_cfg.root_markers = cfg.root_markers
  vim.lsp.config(M.NAME, client_cfg)
  vim.lsp.enable(M.NAME)
end

--- 0.7–0.10: attach to one buffer, starting (or reusing) the client of its project root.
---@param bufnr integer
---@param cfg LeanCopilotConfig
---@return integer|nil client_id
function M.attach(bufnr, cfg)
  local fname = vim.api.nvim_buf_get_name(bufnr)
  if fname == "" or vim.bo[bufnr].buftype ~= "" then return nil end
  local root = util.find_root(fname, cfg.root_markers) or vim.fn.fnamemodify(fname, ":p:h")
  local client_cfg = M.client_config(cfg, root)
  if vim.lsp.start then -- 0.8–0.10: reuses a client with the same name and root
    return vim.lsp.start(client_cfg, { bufnr = bufnr })
  end
  local id = by_root[root]
  if not id or not vim.lsp.get_client_by_id(id) then
    id = vim.lsp.start_client(client_cfg)
    if not id then
      util.notify("could not start " .. table.concat(client_cfg.cmd, " "), vim.log.levels.ERROR)
      return nil
    end
    by_root[root] = id
  end
  vim.lsp.buf_attach_client(bufnr, id)
  return id
end

--- Stops every lean-copilot client (they restart on the next attach).
function M.stop_all()
  for _, client in ipairs(util.clients(M.NAME)) do
    util.stop(client)
  end
  by_root = {}
end

--- Pushes new settings to running servers (workspace/didChangeConfiguration).
---@param settings table
function M.push_settings(settings)
  for _, client in ipairs(util.clients(M.NAME)) do
    client.config.settings = { leanCopilot = settings }
    util.client_notify(client, "workspace/didChangeConfiguration", { settings = { leanCopilot = settings } })
  end
end

return M

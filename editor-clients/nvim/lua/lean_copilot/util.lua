-- Small helpers that work on Neovim 0.7 (no vim.fs, no vim.lsp.get_clients).
local M = {}

--- Nearest ancestor directory of `path` holding one of `markers`, or nil.
---@param path string
---@param markers string[]
---@return string|nil
function M.find_root(path, markers)
  local dir = vim.fn.fnamemodify(path, ":p:h")
  while true do
    for _, marker in ipairs(markers) do
      if vim.loop.fs_stat(dir .. "/" .. marker) then return dir end
    end
    local parent = vim.fn.fnamemodify(dir, ":h")
    if parent == dir then return nil end
    dir = parent
  end
end

--- Clients named `name` attached to `bufnr` (any buffer when nil).
---@param name string
---@param bufnr integer|nil
---@return table[]
function M.clients(name, bufnr)
  if vim.lsp.get_clients then return vim.lsp.get_clients({ name = name, bufnr = bufnr }) end -- 0.10+
  local found = {}
  local all = bufnr and vim.lsp.buf_get_clients(bufnr) or vim.lsp.get_active_clients()
  for _, client in pairs(all) do
    if client.name == name then table.insert(found, client) end
  end
  return found
end

---@param msg string
---@param level integer|nil
function M.notify(msg, level)
  -- The server's messages already name it; don't say "lean-copilot: lean-copilot: ...".
  if not vim.startswith(msg, "lean-copilot") then msg = "lean-copilot: " .. msg end
  vim.notify(msg, level or vim.log.levels.INFO)
end

-- 0.11 made client methods colon-called (client:request); dot calls are deprecated there.
local colon = vim.fn.has("nvim-0.11") == 1

---@param client table
---@param method string
---@param params table
---@param handler function
---@param bufnr integer|nil
function M.request(client, method, params, handler, bufnr)
  if colon then return client:request(method, params, handler, bufnr) end
  return client.request(method, params, handler, bufnr)
end

---@param client table
---@param method string
---@param params table
function M.client_notify(client, method, params)
  if colon then return client:notify(method, params) end
  return client.notify(method, params)
end

---@param client table
function M.stop(client)
  if colon then return client:stop() end
  return client.stop()
end

return M

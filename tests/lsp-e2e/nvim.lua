-- Neovim (headless) with its built-in LSP client attached to `gops lsp`: opens
-- $GOPS_E2E_FILE and waits for the diagnostic of the introduced error. Exits 0 when
-- it arrives, 1 otherwise. Works with Neovim 0.7 (Debian 12) and later. Run by run.sh.
local file = os.getenv("GOPS_E2E_FILE")
local gops = os.getenv("GOPS")
vim.cmd("edit " .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local client = vim.lsp.start_client({
  name = "gops",
  cmd = { gops, "lsp" },
  root_dir = vim.fn.fnamemodify(file, ":h"),
})
if not client then
  io.stderr:write("lsp-e2e (nvim): could not start gops lsp\n")
  vim.cmd("cquit 1")
end
vim.lsp.buf_attach_client(buf, client)
local ok = vim.wait(15000, function()
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.code == "E0202" then return true end
  end
  return false
end, 100)
if ok then
  local d = vim.diagnostic.get(buf)[1]
  io.stdout:write(string.format("ok nvim diagnostic at %d:%d: %s\n", d.lnum + 1, d.col + 1, d.message:match("[^\n]*")))
  io.stdout:write("lsp-e2e (nvim): passed\n")
  vim.lsp.stop_client(client)
  vim.cmd("qall!")
else
  io.stderr:write("lsp-e2e (nvim): FAILED: no E0202 diagnostic within 15 s\n")
  vim.cmd("cquit 1")
end

-- A scripted Neovim session against `disc lsp` (Neovim 0.7 or newer, headless), as an editor sees
-- the server: open FILE, wait for its diagnostics, hover on the first `training(`, complete inside
-- it, and go to the definition of the first `beta_vae(` call. Writes what it saw to OUT.
--
--   DISC=target/release/disc FILE=my.dis OUT=seen.txt nvim --headless -u NONE -c "luafile editors/neovim/session.lua"
--
-- It is a check to run by hand (CI machines have no Neovim); tests/lsp.rs scripts the same
-- requests over JSON-RPC directly.
local disc = os.getenv("DISC")
local file = os.getenv("FILE")
vim.cmd("edit " .. file)
local buf = vim.api.nvim_get_current_buf()
local out = {}
local function log(s) table.insert(out, s) end
local client_id = vim.lsp.start_client({ name = "disc", cmd = { disc, "lsp" }, root_dir = vim.fn.getcwd() })
vim.lsp.buf_attach_client(buf, client_id)
vim.wait(10000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
for _, d in ipairs(vim.diagnostic.get(buf)) do
  log(string.format("diagnostic line %d col %d [%s]: %s", d.lnum + 1, d.col + 1, tostring(d.code), d.message))
end
local function request(method, line, col, extra)
  local params = vim.lsp.util.make_position_params()
  params.position = { line = line, character = col }
  for k, v in pairs(extra or {}) do params[k] = v end
  local result = vim.lsp.buf_request_sync(buf, method, params, 10000)
  return result and result[client_id] and result[client_id].result
end
local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
for i, l in ipairs(lines) do
  local c = l:find("training%(")
  if c then
    local hover = request("textDocument/hover", i - 1, c)
    log("hover on `training` (line " .. i .. "): " .. (hover and hover.contents.value or "nil"))
    local comp = request("textDocument/completion", i - 1, c + 9)
    local items = comp and (comp.items or comp) or {}
    local names = {}
    for j = 1, math.min(#items, 8) do table.insert(names, items[j].label) end
    log("completion inside `training(`: " .. table.concat(names, ", "))
    break
  end
end
for i, l in ipairs(lines) do
  local c = l:find("beta_vae%(")
  if c and not l:find("^use") then
    local def = request("textDocument/definition", i - 1, c)
    local loc = def and (def[1] or def)
    log("definition of `beta_vae` (line " .. i .. "): " .. (loc and (loc.uri or loc.targetUri) .. " line " .. ((loc.range or loc.targetRange).start.line + 1) or "nil"))
    break
  end
end
vim.fn.writefile(out, os.getenv("OUT"))
vim.cmd("qa!")

-- kedge keygen, encrypt, decrypt: age files (kedge.age) from the command
-- line, with age's own flags, so a site needs no other tool.
local age = require "kedge.age"
local kos = require "kedge.os"
local site = require "kedge.site"

local M = {}

M.EXIT = {ok = 0, failed = 1, usage = 2}

local function fail(cmd, msg)
  io.stderr:write("kedge ", cmd, ": ", msg, "\n")
  return M.EXIT.failed
end

local function usage(cmd, msg)
  io.stderr:write("kedge ", cmd, ": ", msg, " (see 'kedge help ", cmd, "')\n")
  return M.EXIT.usage
end

local function read(path, limit)
  if path == "-" then return io.stdin:read("a") end
  return kos.read_file(path, limit)
end

function M.keygen(o)
  local ident, rcpt = age.keygen()
  if not ident then return fail("keygen", rcpt) end
  local text = string.format("# created: %s\n# public key: %s\n%s\n", os.date("!%Y-%m-%dT%H:%M:%SZ"),
    rcpt, ident)
  if not o.output then
    io.write(text)
  else
    if kos.stat(o.output) then return fail("keygen", o.output .. " exists: kedge never overwrites a key") end
    local ok, err = kos.write_atomic(o.output, text, 384)
    if not ok then return fail("keygen", err) end
    io.stderr:write("Public key: ", rcpt, "\n")
  end
  return M.EXIT.ok
end

-- The recipients of -r, -R files and --site (the site file's and
-- kedge.yaml's recipients).
local function recipients(o)
  local list = {}
  for _, r in ipairs(o.recipient or {}) do list[#list + 1] = r end
  for _, f in ipairs(o.recipients_file or {}) do
    local text, err = read(f, 1 << 20)
    if not text then return nil, "-R " .. f .. ": " .. tostring(err) end
    for line in text:gmatch("[^\n]+") do
      line = line:gsub("^%s+", ""):gsub("%s+$", "")
      if line ~= "" and line:sub(1, 1) ~= "#" then list[#list + 1] = line end
    end
  end
  if o.site and #o.site > 0 then
    local tree, terr = site.dir_tree(o.repo)
    if not tree then return nil, "--repo: " .. terr end
    local repo, lerr = site.load(tree)
    tree:close()
    if not repo then return nil, "the repo does not load:\n" .. lerr end
    for _, name in ipairs(o.site) do
      local s = repo.sites[name]
      if not s then return nil, "no site " .. name .. " in " .. o.repo end
      if #s.recipients == 0 then return nil, "site " .. name .. " declares no recipients" end
      for _, r in ipairs(s.recipients) do list[#list + 1] = r end
    end
    for _, r in ipairs(repo.settings.recipients or {}) do list[#list + 1] = r end
  end
  local seen, out = {}, {}
  for _, r in ipairs(list) do if not seen[r] then seen[r] = true; out[#out + 1] = r end end
  if #out == 0 then return nil, "no recipients: give -r, -R or --site" end
  return out
end

function M.encrypt(o, args)
  if #args ~= 1 then return usage("encrypt", "give one FILE (- for stdin)") end
  local rs, rerr = recipients(o)
  if not rs then return usage("encrypt", rerr) end
  local plain, err = read(args[1], 256 << 20)
  if not plain then return fail("encrypt", args[1] .. ": " .. tostring(err)) end
  local out, eerr = age.encrypt(plain, rs, {armor = o.armor})
  if not out then return fail("encrypt", eerr) end
  local dest = o.output or (args[1] ~= "-" and args[1] .. ".age") or "-"
  if dest == "-" then io.write(out); return M.EXIT.ok end
  if kos.stat(dest) and not o.force then return fail("encrypt", dest .. " exists (--force replaces it)") end
  local ok, werr = kos.write_atomic(dest, out, 420)
  if not ok then return fail("encrypt", werr) end
  return M.EXIT.ok
end

function M.decrypt(o, args)
  if #args ~= 1 then return usage("decrypt", "give one FILE (- for stdin)") end
  if not o.identity or #o.identity == 0 then return usage("decrypt", "give -i IDENTITY") end
  local ids = {}
  for _, f in ipairs(o.identity) do
    local text, err = read(f, 64 << 10)
    if not text then return fail("decrypt", "-i " .. f .. ": " .. tostring(err)) end
    ids[#ids + 1] = text
  end
  local data, rerr = read(args[1], 256 << 20)
  if not data then return fail("decrypt", args[1] .. ": " .. tostring(rerr)) end
  local plain, derr
  for _, id in ipairs(ids) do
    plain, derr = age.decrypt(data, id)
    if plain then break end
  end
  if not plain then return fail("decrypt", args[1] .. ": " .. tostring(derr)) end
  if not o.output or o.output == "-" then io.write(plain); return M.EXIT.ok end
  local ok, werr = kos.write_atomic(o.output, plain, 384)
  if not ok then return fail("decrypt", werr) end
  return M.EXIT.ok
end

return M

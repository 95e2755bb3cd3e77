-- kedge.secrets: the site's age identity and what it decrypts. Plaintext
-- lives in memory only: every string of a decrypted document (and its
-- base64 form, as a Secret's data holds it) is registered with the logger,
-- the report writer and the plan's diff, which show "(secret)" instead.
--
--   local dec, err = secrets.decryptor{identity = "/etc/kedge/identity"}
--   local text, derr = dec(bytes, "bundles/db/secrets.yaml.age")
local core = require "kedge.core"
local kos = require "kedge.os"
local yaml = require "kedge.yaml"
local kedge = require "kedge"

local M = {}

M.DEFAULT_IDENTITY = "/etc/kedge/identity"
M.MAX_IDENTITY_BYTES = 64 * 1024

-- Where strings that must not be shown are registered (report.secret,
-- kube.secret, core.log_secret); required lazily, the pass loads them.
local function sinks()
  return {core.log_secret, require("kedge.report").secret, require("kedge.kube").secret}
end

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local q = {}
    for k = 1, 4 do
      local x = (n >> (6 * (4 - k))) & 63
      q[k] = B64:sub(x + 1, x + 1)
    end
    if not b then q[3], q[4] = "=", "=" elseif not c then q[4] = "=" end
    out[#out + 1] = table.concat(q)
  end
  return table.concat(out)
end

-- Every string and number leaf of v (depth-bounded), and v itself when
-- it is a string.
local function leaves(v, out, depth)
  if depth > 64 then return end
  local t = type(v)
  if t == "string" then
    out[#out + 1] = v
  elseif t == "number" then
    out[#out + 1] = tostring(v)
  elseif t == "table" and not kedge.is_null(v) then
    for _, x in pairs(v) do leaves(x, out, depth + 1) end
  end
end

-- Registers the plaintext's values (not its keys: key names such as
-- "password" are not secret and would mask ordinary output).
function M.register(text)
  local docs = yaml.decode_all(text) or {}
  local list = {}
  for _, d in ipairs(docs) do leaves(d, list, 0) end
  if #list == 0 then list[1] = text end
  local to = sinks()
  for _, s in ipairs(list) do
    s = s:gsub("^%s+", ""):gsub("%s+$", "")
    if #s >= 4 then
      for _, f in ipairs(to) do f(s); f(base64(s)) end
    end
  end
end

-- The identity file's text, or nil, err. A file others can read is
-- refused: the key decrypts every secret of the site.
function M.read_identity(path)
  local st, err = kos.stat(path)
  if not st then return nil, "identity " .. path .. ": " .. tostring(err) end
  if st.type ~= "file" then return nil, "identity " .. path .. ": not a file" end
  if st.mode and st.mode & 0x3f ~= 0 then
    return nil, string.format("identity %s: mode %o lets others read it; chmod 600 %s", path,
      st.mode & 0x1ff, path)
  end
  local text, rerr = kos.read_file(path, M.MAX_IDENTITY_BYTES)
  if not text then return nil, "identity " .. path .. ": " .. tostring(rerr) end
  return text
end

-- A decrypt function for kedge.site (bytes, path -> plaintext or nil,
-- err). o.identity: a file (nil: the default when it exists). Without an
-- identity, every call fails naming the file and the fix (o.missing says
-- how the command takes one).
function M.decryptor(o)
  local path = o.identity
  if not path and kos.stat(M.DEFAULT_IDENTITY) then path = M.DEFAULT_IDENTITY end
  if not path then
    local how = o.missing or "--identity FILE"
    return function(_, file)
      return nil, string.format("%s is encrypted and no identity was given (%s)", file, how)
    end
  end
  local ident, err = M.read_identity(path)
  if not ident then return nil, err end
  local age = require "kedge.age"
  -- a pass renders every bundle with the site's secrets file: decrypted
  -- (and registered) once per file content
  local seen = {}
  return function(bytes, file)
    if seen[bytes] then return seen[bytes] end
    local text, derr = age.decrypt(bytes, ident)
    if not text then return nil, string.format("%s: %s (identity %s)", file, tostring(derr), path) end
    M.register(text)
    seen[bytes] = text
    return text
  end
end

return M

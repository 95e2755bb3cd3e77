-- kedge.cli.health: `kedge health [--scripts DIR] [--json] FILE...`, each
-- object of the files judged by its Argo CD health script (kedge.health).
local health = require "kedge.health"
local yaml = require "kedge.yaml"
local json = require "kedge.json"
local kos = require "kedge.os"

local M = {}

local function read(file)
  if file == "-" then return io.stdin:read("a"), nil end
  return kos.read_file(file)
end

-- The objects of one file: every document, and the items of a List.
local function objects(file, out)
  local text, err = read(file)
  if not text then return nil, err end
  local docs, derr = yaml.decode_all(text, {name = file == "-" and "<stdin>" or file})
  if not docs then return nil, derr end
  local function add(doc)
    if type(doc) ~= "table" then return end
    if type(doc.kind) == "string" and doc.kind:match("List$") and type(doc.items) == "table" then
      for _, item in ipairs(doc.items) do add(item) end
    else
      out[#out + 1] = {file = file, obj = doc}
    end
  end
  for _, d in ipairs(docs) do add(d) end
  return true
end

local function str(v)
  return type(v) == "string" and v or nil
end

local function line(o, res, as_json)
  local obj, meta = o.obj, type(o.obj.metadata) == "table" and o.obj.metadata or {}
  local entry = {file = o.file, apiVersion = str(obj.apiVersion), kind = str(obj.kind),
    namespace = str(meta.namespace), name = str(meta.name)}
  if res then
    entry.status, entry.message, entry.script, entry.error = res.status, res.message, res.script, res.error
  else
    entry.status, entry.message = "", "no health script"
  end
  if as_json then return json.encode(entry) end
  local who = (entry.kind or "?") .. " " .. (entry.namespace and entry.namespace .. "/" or "") ..
    (entry.name or "?")
  if not res then return who .. ": no health script" end
  return string.format("%s: %s%s", who, entry.status ~= "" and entry.status or "(no status)",
    entry.message ~= "" and ": " .. entry.message or "")
end

function M.main(o, args, cmd)
  local cli = require "kedge.cli"
  if #args == 0 then return cli.usage_error(cmd, "give the FILEs holding the objects ('-' for stdin)") end
  local st = kos.stat(o.scripts)
  if not st or st.type ~= "dir" then
    io.stderr:write("kedge health: no scripts folder '", o.scripts, "' (give --scripts DIR)\n")
    return cli.EXIT.failed
  end
  local code, list = cli.EXIT.ok, {}
  for _, file in ipairs(args) do
    local ok, err = objects(file, list)
    if not ok then
      io.stderr:write("kedge health: ", tostring(err), "\n")
      code = cli.EXIT.failed
    end
  end
  for _, item in ipairs(list) do
    local res = health.check(o.scripts, item.obj)
    if res and res.status ~= "Healthy" then code = cli.EXIT.failed end
    io.stdout:write(line(item, res, o.json), "\n")
  end
  return code
end

return M

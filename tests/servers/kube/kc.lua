-- A tiny kubectl for kedge's tests, on kedge.kube (run with `kedge lua`):
--   kc.lua KUBECONFIG get APIVERSION KIND NAMESPACE NAME [FIELD.PATH]
--       prints the object as JSON (or one field), exit 3 when absent
--   kc.lua KUBECONFIG status APIVERSION KIND NAMESPACE NAME JSON
--       plays the kubelet/controller: merge-patches the status subresource
--   kc.lua KUBECONFIG create FILE       creates with POST (field manager "someone-else")
--   kc.lua KUBECONFIG apply-as MANAGER FILE [force]  server-side apply as MANAGER
--   kc.lua KUBECONFIG delete APIVERSION KIND NAMESPACE NAME
--   kc.lua KUBECONFIG count-label APIVERSION KIND NAMESPACE SELECTOR
local kube = require "kedge.kube"
local json = require "kedge.json"
local yaml = require "kedge.yaml"

local cfg, cmd = arg[1], arg[2]
local c = assert(kube.connect{kubeconfig = cfg ~= "" and cfg or nil})

local function die(msg, code)
  io.stderr:write(msg, "\n")
  os.exit(code or 1)
end

local function file_objs(path)
  local f = assert(io.open(path))
  local docs = assert(yaml.decode_all(f:read("a"), {name = path}))
  f:close()
  return docs
end

if cmd == "get" then
  local o, err = c:get(arg[3], arg[4], arg[5], arg[6])
  if not o then die(err, err == "not found" and 3 or 1) end
  if arg[7] then
    for part in arg[7]:gmatch("[^.]+") do
      o = o and o[tonumber(part) and tonumber(part) + 1 or part]
    end
    print(type(o) == "table" and json.encode(o) or tostring(o))
  else
    print(json.encode(o))
  end
elseif cmd == "status" then
  local p = assert(c:path(arg[3], arg[4], arg[5], arg[6]))
  local st, body = c:call("PATCH", p .. "/status", '{"status":' .. arg[7] .. '}',
    "application/merge-patch+json")
  if st ~= 200 then die("status patch: " .. tostring(st) .. " " .. json.encode(body or {})) end
elseif cmd == "create" then
  for _, o in ipairs(file_objs(arg[3])) do
    local p = assert(c:path(o.apiVersion, o.kind, o.metadata.namespace))
    local st, body = c:call("POST", p .. "?fieldManager=someone-else", o)
    if st ~= 201 then die("create: " .. tostring(st) .. " " .. json.encode(body or {})) end
  end
elseif cmd == "apply-as" then
  for _, o in ipairs(file_objs(arg[4])) do
    local ok, err = c:apply_one(o, {field_manager = arg[3], force = arg[5] == "force"})
    if not ok then die(err) end
  end
elseif cmd == "delete" then
  local ok, err = c:delete({apiVersion = arg[3], kind = arg[4],
    metadata = {namespace = arg[5], name = arg[6]}})
  if not ok then die(err) end
elseif cmd == "count-label" then
  local items = assert(c:list(arg[3], arg[4], {namespace = arg[5], selector = arg[6]}))
  print(#items)
else
  die("kc.lua: unknown command " .. tostring(cmd), 2)
end

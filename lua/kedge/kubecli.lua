-- kedge.kubecli: the `kedge apply-manifests` and `kedge plan-manifests`
-- commands: handlers of the command table (kedge.cli), called with the
-- parsed options; they return the exit code.
local kube = require "kedge.kube"
local kos = require "kedge.os"
local yaml = require "kedge.yaml"
local log = require "kedge.log"
local kedge = require "kedge"

local M = {}

M.EXIT = {ok = 0, failed = 1, usage = 2, invalid = 3, not_ready = 4, changes = 5}

local function usage(cmd, msg)
  io.stderr:write(string.format("kedge: %s (see 'kedge help %s')\n", msg, cmd))
  return M.EXIT.usage
end

-- The checks across flags the command table cannot make.
local function check(o)
  o.files = o.files or {}
  if #o.files == 0 then return nil, "give the manifests with -f FILE|DIR" end
  if o.prune and not o.bundle then return nil, "--prune needs --bundle NAME (prune only touches what that bundle applied)" end
  if o.bundle and not (o.bundle:match("^[a-z0-9][a-z0-9.-]*$") and o.bundle:match("[a-z0-9]$")
      and #o.bundle <= 47) then
    return nil, "--bundle must be a DNS label-like name (lowercase letters, digits, '-', '.'; at most 47 characters), not '" .. o.bundle .. "'"
  end
  return o
end

local function read(path)
  local f, err
  if path == "-" then f = io.stdin else f, err = io.open(path, "rb") end
  if not f then return nil, err end
  local text = f:read("a")
  if f ~= io.stdin then f:close() end
  return text
end

-- Loads the manifests of files and folders (a folder: its *.yaml, *.yml
-- and *.json files, sorted, not recursive). Returns objects and sources.
function M.load(paths)
  local objs, sources = {}, {}
  local function add_file(path)
    local text, err = read(path)
    if not text then return nil, err end
    local docs, derr = yaml.decode_all(text, {name = path})
    if not docs then return nil, derr end
    for n, d in ipairs(docs) do
      if type(d) == "table" and not kedge.is_null(d) then
        if d.kind == "List" and type(d.items) == "table" then
          for j, item in ipairs(d.items) do
            objs[#objs + 1] = item
            sources[#sources + 1] = string.format("%s: document %d, item %d", path, n, j)
          end
        elseif next(d) ~= nil then
          objs[#objs + 1] = d
          sources[#sources + 1] = string.format("%s: document %d", path, n)
        end
      elseif not kedge.is_null(d) then
        return nil, string.format("%s: document %d is not a mapping", path, n)
      end
    end
    return true
  end
  for _, p in ipairs(paths) do
    local names, err, why = nil, nil, nil
    if p ~= "-" then names, err, why = kos.read_dir(p) end
    if names then
      for _, n in ipairs(names) do
        if n:match("%.ya?ml$") or n:match("%.json$") then
          local ok, ferr = add_file(p .. "/" .. n)
          if not ok then return nil, ferr end
        end
      end
    elseif p == "-" or why == "notdir" then
      local ok, ferr = add_file(p)
      if not ok then return nil, ferr end
    else
      return nil, err
    end
  end
  return objs, sources
end

local function connect(o)
  return kube.connect{kubeconfig = o.kubeconfig, context = o.context, namespace = o.namespace,
    field_manager = o.field_manager, deadline = o.timeout}
end

local function fail(msg)
  io.stderr:write("kedge: " .. msg .. "\n")
end

local function code_of(err)
  if err:match("^invalid: ") then return M.EXIT.invalid, err:sub(10) end
  if err:match("^timeout: ") then return M.EXIT.not_ready, err:sub(10) end
  return M.EXIT.failed, err
end

function M.apply(o)
  local perr
  o, perr = check(o)
  if not o then return usage("apply-manifests", perr) end
  local objs, sources = M.load(o.files)
  if not objs then fail(sources); return M.EXIT.invalid end
  if #objs == 0 then
    -- with --prune an empty set would delete the whole bundle: a wrong
    -- folder must not do that
    fail("no objects in " .. table.concat(o.files, ", ") .. ": nothing to apply")
    return M.EXIT.invalid
  end
  local c, cerr = connect(o)
  if not c then fail(cerr); return M.EXIT.failed end
  local created = 0
  local res, err, partial = c:apply(objs, {bundle = o.bundle, prune = o.prune, force = o.force,
    wait = o.wait, state_dir = o.state_dir, sources = sources, namespace = o.namespace,
    progress = function(action, ref)
      if action == "created" then created = created + 1 end
      print(action .. " " .. kube.describe(ref))
      io.stdout:flush()
    end})
  local r = res or partial or {applied = {}, pruned = {}, skipped = {}}
  for _, p in ipairs(r.pruned) do
    if p.action == "deleted" then print("pruned " .. kube.describe(p.ref)) end
  end
  for _, s in ipairs(r.skipped) do print("kept " .. kube.describe(s.ref) .. ": " .. s.reason) end
  local st = c:stats()
  log.info("apply finished", {objects = #r.applied, created = created, pruned = #r.pruned,
    kept = #r.skipped, requests = st.api_requests})
  c:close()
  if not res then
    local code, msg = code_of(err)
    fail(msg)
    return code
  end
  return M.EXIT.ok
end

function M.plan(o)
  local perr
  o, perr = check(o)
  if not o then return usage("plan-manifests", perr) end
  local objs, sources = M.load(o.files)
  if not objs then fail(sources); return M.EXIT.invalid end
  local c, cerr = connect(o)
  if not c then fail(cerr); return M.EXIT.failed end
  local res, err = c:plan(objs, {bundle = o.bundle, prune = o.prune, force = o.force,
    sources = sources, namespace = o.namespace, state_dir = o.state_dir})
  log.info("plan finished", {objects = #objs, requests = c:stats().api_requests})
  c:close()
  if not res then
    local code, msg = code_of(err)
    fail(msg)
    return code
  end
  local changed, unchanged = 0, 0
  for _, ch in ipairs(res.changes) do
    if ch.action == "unchanged" then
      unchanged = unchanged + 1
    else
      changed = changed + 1
      print(string.format("%s %s", ch.action == "create" and "+" or "~", kube.describe(ch.ref)))
      for _, l in ipairs(ch.diff) do print("    " .. l) end
    end
  end
  for _, e in ipairs(res.prune) do
    changed = changed + 1
    print("- " .. kube.describe(e) .. " (pruned: no longer in the manifests)")
  end
  print(string.format("plan: %d to change, %d unchanged", changed, unchanged))
  return changed > 0 and M.EXIT.changes or M.EXIT.ok
end

return M

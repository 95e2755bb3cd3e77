-- kedge.cli.policy: `kedge pause`, `kedge resume` and `kedge rollback`,
-- handlers of the command table (kedge.cli). Pauses live in the state
-- directory (kedge.gates.pause holds the bundles they name); a rollback
-- reads nothing but the state directory: state.json's good history, the
-- commit's tree (rev/<commit>, else the mirror's objects), and applies it.
local git = require "kedge.git"
local json = require "kedge.json"
local kos = require "kedge.os"
local limits = require "kedge.limits"
local pass = require "kedge.pass"
local passcli = require "kedge.passcli"
local pause = require "kedge.gates.pause"
local site = require "kedge.site"

local M = {}
local EXIT = {ok = 0, failed = 1, usage = 2}

local usage, fail = passcli.usage, passcli.fail

local function site_of(o)
  return o.site or passcli.default_site()
end

function M.pause(o)
  local s = site_of(o)
  if not s then return usage("pause", "give the site with --site NAME (or $KEDGE_SITE)") end
  if not o.reason or not o.reason:find("%S") then
    return usage("pause", "give --reason TEXT: why, and who to ask (kedge status and the reports show it)")
  end
  local p, err = pause.set(o.state_dir, s, o.bundle, o.reason)
  if not p then return fail("pause", err) end
  print(string.format("%s paused on site %s by %s: %s (kedge resume%s lifts it)",
    o.bundle and ("bundle " .. o.bundle) or "every bundle", s, p.who, p.reason,
    o.bundle and (" --bundle " .. o.bundle) or ""))
  return EXIT.ok
end

function M.resume(o)
  local s = site_of(o)
  if not s then return usage("resume", "give the site with --site NAME (or $KEDGE_SITE)") end
  local lifted, err = pause.clear(o.state_dir, s, o.bundle)
  if not lifted then return fail("resume", err) end
  if #lifted == 0 then
    print(o.bundle and string.format("bundle %s was not paused on site %s", o.bundle, s) or
      string.format("nothing was paused on site %s", s))
  else
    print(string.format("resumed on site %s: %s (the next pass moves %s on)", s,
      table.concat(lifted, ", "), #lifted == 1 and "it" or "them"))
  end
  return EXIT.ok
end

-- ---- rollback ----

-- The revision to go back to in a bundle's record of state.json: the good
-- one before the current (to = "previous") or the one whose commit starts
-- with to. Returns the history entry and the entries from it on, or nil, err.
local function target(name, rec, to)
  local hist = type(rec.history) == "table" and rec.history or {rec}
  if to == "previous" then
    for i, h in ipairs(hist) do
      if h.commit ~= rec.commit then return h, {table.unpack(hist, i)} end
    end
    return nil, string.format("bundle %s has no earlier good revision than %s in the state directory " ..
      "(state.json keeps the last %d)", name, tostring(rec.commit):sub(1, 12), limits.good_history)
  end
  if not to:match("^%x+$") or #to < 4 then
    return nil, "--to: previous, or a commit id (4 to 40 hex digits)"
  end
  for i, h in ipairs(hist) do
    if type(h.commit) == "string" and h.commit:sub(1, #to) == to:lower() then
      if h.commit == rec.commit then
        return nil, string.format("bundle %s runs %s already", name, h.commit:sub(1, 12))
      end
      return h, {table.unpack(hist, i)}
    end
  end
  local known = {}
  for _, h in ipairs(hist) do known[#known + 1] = tostring(h.commit):sub(1, 12) end
  return nil, string.format("commit %s is not among bundle %s's good revisions (%s)", to, name,
    table.concat(known, ", "))
end

-- The tree of commit from the state directory's mirror, written to a
-- folder dest (nothing but what the tree holds, bounded by the git tree
-- limits). Returns the list of paths written (files, then folders, so
-- they can be removed in reverse), or nil, err.
local function write_tree(store, commit, dest)
  local written, bytes = {dest}, 0
  local ok, merr = kos.mkdir(dest)
  if not ok then return nil, merr end
  local function walk(dir)
    local ents, err = store:list(commit, dir)
    if not ents then return nil, err end
    for _, e in ipairs(ents) do
      local rel = dir == "" and e.name or (dir .. "/" .. e.name)
      local path = dest .. "/" .. rel
      if #written > limits.git_tree_files then return nil, "more files than limits.git_tree_files" end
      if e.type == "dir" then
        local mk, derr = kos.mkdir(path)
        if not mk then return nil, derr end
        written[#written + 1] = path
        local w, werr = walk(rel)
        if not w then return nil, werr end
      elseif e.type == "file" then
        local data, rerr = store:read(commit, rel)
        if not data then return nil, rel .. ": " .. tostring(rerr) end
        bytes = bytes + #data
        if bytes > limits.git_tree_bytes then return nil, "the tree is over limits.git_tree_bytes" end
        local f, ferr = io.open(path, "wb")
        if not f then return nil, ferr end
        f:write(data)
        f:close()
        written[#written + 1] = path
      end
      -- a symbolic link is left out: a tree kedge serves never follows one
    end
    return true
  end
  local w, err = walk("")
  if not w then return nil, err, written end
  return written
end

local function remove_all(written)
  for i = #written, 1, -1 do os.remove(written[i]) end
end

-- The tree of a good commit: rev/<commit> while sync keeps it, else
-- written out of the mirror into STATE_DIR/rollback.tmp-* (removed by
-- the caller through the list returned). -> tree, written, or nil, err.
local function tree_at(state_dir, commit)
  local rev = git.open(state_dir, commit)
  if rev then return rev, {} end
  local store, serr = git.store(state_dir .. "/mirror.git")
  if not store then return nil, "neither rev/" .. commit:sub(1, 12) .. " nor the mirror: " .. serr end
  -- a name of its own, so what a crashed rollback left is never read
  local dest = string.format("%s/rollback.tmp-%d-%d", state_dir, os.time(), math.random(1 << 30))
  local written, err, partial = write_tree(store, commit, dest)
  store:close()
  if not written then
    remove_all(partial or {})
    return nil, "commit " .. commit:sub(1, 12) .. " from the mirror: " .. tostring(err)
  end
  local tree, terr = site.dir_tree(dest)
  if not tree then remove_all(written); return nil, terr end
  return tree, written
end

local function read_state(path)
  local text = kos.read_file(path)
  local st = text and json.decode(text, {name = path})
  if type(st) ~= "table" then return nil end
  st.sites = type(st.sites) == "table" and st.sites or {}
  return st
end

-- Re-renders bundle name at the entry to (its tree from the state
-- directory), applies it, and records it as the bundle's good revision with
-- the history from it on. -> true, or nil, err.
local function restore(P, name, rec, to, hist)
  local tree, written = tree_at(P.opts.state_dir, to.commit)
  if not tree then return nil, written end
  local objs, ns, secret = P:good_objects({name = name}, {commit = to.commit}, tree)
  remove_all(written)
  if not objs then return nil, ns end
  local c, cerr = P:kube_client()
  if not c then return nil, cerr end
  local res, aerr = c:apply(objs, {bundle = name, prune = true, namespace = ns,
    state_dir = P.opts.state_dir, wait = P:wait_for()})
  if not res then return nil, aerr end
  local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local ok, err = kos.write_atomic(P:good_path(name), json.encode({commit = to.commit, namespace = ns,
    objects = not secret and objs or nil, secret = secret}))
  if not ok then return nil, err end
  local all = read_state(P:state_path()) or {sites = {}}
  local st = all.sites[P.site_name] or {bundles = {}}
  all.sites[P.site_name] = st
  st.bundles[name] = {commit = to.commit, at = now, chart = to.chart or rec.chart, version = to.version,
    history = hist, rolled_back = {from = rec.commit, version = rec.version, at = now}}
  ok, err = kos.write_atomic(P:state_path(), json.encode(all, {indent = 2}) .. "\n")
  if not ok then return nil, err end
  return res
end

-- The bundles to roll back and where to: {{name=, rec=, to=, hist=}} and
-- why the others of the site stay (without bundle: those with no such
-- revision), or nil, err (before anything is touched).
local function plan_rollback(state_dir, site_name, bundle, to)
  local all = read_state(state_dir .. "/state.json")
  local st = all and all.sites[site_name]
  if not st or type(st.bundles) ~= "table" or next(st.bundles) == nil then
    return nil, string.format("no good revision of site %s in %s/state.json: nothing to roll back to",
      site_name, state_dir)
  end
  local names = {}
  if bundle then
    if not st.bundles[bundle] then
      return nil, string.format("bundle %s has no good revision on site %s", bundle, site_name)
    end
    names[1] = bundle
  else
    for n in pairs(st.bundles) do names[#names + 1] = n end
    table.sort(names)
  end
  local list, left = {}, {}
  for _, n in ipairs(names) do
    local h, hist = target(n, st.bundles[n], to)
    if h then
      list[#list + 1] = {name = n, rec = st.bundles[n], to = h, hist = hist}
    elseif bundle then
      return nil, hist
    else
      left[#left + 1] = hist
    end
  end
  -- every bundle of the site: those that cannot go back stay as they are
  if #list == 0 then return nil, table.concat(left, "; ") end
  return list, left
end

function M.rollback(o)
  local s = site_of(o)
  if not s then return usage("rollback", "give the site with --site NAME (or $KEDGE_SITE)") end
  local to = o.to or "previous"
  local list, left = plan_rollback(o.state_dir, s, o.bundle, to)
  if not list then return fail("rollback", left) end
  for _, why in ipairs(left) do print(why .. ": left as it is") end
  local lock, lerr = kos.lock(o.state_dir .. "/pass.lock", o.lock_timeout or 60)
  if not lock then return fail("rollback", lerr) end
  local P = pass.new{state_dir = o.state_dir, site = s, mode = "apply", kubeconfig = o.kubeconfig,
    context = o.context, timeout = o.timeout, wait = o.wait, identity = o.identity}
  local code = EXIT.ok
  for _, b in ipairs(list) do
    local res, err = restore(P, b.name, b.rec, b.to, b.hist)
    if not res then
      code = fail("rollback", string.format("bundle %s to %s: %s", b.name, b.to.commit:sub(1, 12), err))
      break
    end
    local why = string.format("rolled back from %s to %s by kedge rollback", tostring(b.rec.commit):sub(1, 12),
      b.to.commit:sub(1, 12))
    local p, serr = pause.set(o.state_dir, s, b.name, why)
    if not p then code = fail("rollback", "rolled back, but not paused: " .. serr); break end
    local pruned = 0
    for _, x in ipairs(res.pruned or {}) do if x.action == "deleted" then pruned = pruned + 1 end end
    print(string.format("%s: rolled back from %s (%s) to %s (%s); %d pruned", b.name,
      tostring(b.rec.commit):sub(1, 12), tostring(b.rec.version or "-"), b.to.commit:sub(1, 12),
      tostring(b.to.version or "-"), pruned))
    print(string.format("%s: paused on site %s so the agent does not roll it forward again; " ..
      "kedge resume --bundle %s lets it move", b.name, s, b.name))
  end
  if P.kube then P.kube:close() end
  lock:unlock()
  return code
end

return M

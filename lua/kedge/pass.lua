-- kedge.pass: one reconcile pass (steps 1–9 of DESIGN.md) as an object whose
-- steps are functions, so a recipe can call, wrap, reorder or extend them.
--
--   local pass = require "kedge.pass"
--   local p = pass.new{repo = "https://git.example.org/sites.git", ref = "main",
--                      state_dir = "/var/lib/kedge", site = "berlin-01"}
--   local recipe = require "recipes.default"
--   local code = pass.run(p, recipe)      -- an exit code (pass.EXIT)
--
-- Every step returns true, or nil and a message; a failed step marks the
-- pass failed (p.failure = {step=, code=, message=}) and the later steps
-- that change something are skipped, while record and report always run.
-- A custom recipe from the config repo runs in kedge.sandbox and sees only
-- the recipe view of the pass (pass.view): the steps and read-only facts.
local git = require "kedge.git"
local json = require "kedge.json"
local kos = require "kedge.os"
local log = require "kedge.log"
local sandbox = require "kedge.sandbox"

local M = {}

-- Exit codes of plan and apply (README: "Exit codes").
M.EXIT = {ok = 0, failed = 1, usage = 2, changes = 10, budget = 20, apply = 21,
  smoke = 22, undelivered = 23}

-- The limits of a custom recipe's own code (the steps it calls are kedge's
-- and bounded by their own timeouts).
M.RECIPE_LIMITS = {instructions = 50000000, memory = 32 << 20, timeout = 60}

M.STEPS = {"sync", "load", "select", "render", "budget", "plan", "apply", "smoke",
  "record", "report"}

local function lazy(name)
  return setmetatable({}, {__index = function(t, k)
    local m = require(name)
    setmetatable(t, {__index = m})
    return m[k]
  end})
end
local site_mod, budget_mod, smoke_mod, report_mod, kube_mod =
  lazy("kedge.site"), lazy("kedge.budget"), lazy("kedge.smoke"), lazy("kedge.report"),
  lazy("kedge.kube")

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- The manifests of a render as plain objects for the API server
-- (kedge.site's render gives them as .objects: no hooks; test hooks are the
-- smoke step's helm-test).
local function objects_of(manifests)
  if manifests and manifests.objects then return manifests.objects end
  local objs = {}
  for _, m in ipairs(manifests or {}) do
    local v = m
    if m.value ~= nil and m.apiVersion == nil then v = m.value end
    if not m.test then
      if type(v) == "table" and v.apiVersion == nil and v[1] ~= nil then
        for _, d in ipairs(v) do objs[#objs + 1] = d end
      elseif type(v) == "table" and next(v) ~= nil then
        objs[#objs + 1] = v
      end
    end
  end
  return objs
end
M.objects_of = objects_of

-- opts: repo, ref, state_dir, site, kubeconfig, context, timeout (seconds
-- per API request deadline), wait (readiness timeout), git (extra options
-- for kedge.git.sync: ca_file, token_file, verify, trusted_keys, …), mode
-- ("apply" or "plan"), progress (function(step, message) or nil), deliver
-- (false to leave reports in the outbox), lock_timeout (seconds to wait
-- for another apply on the state directory, default 60), tree (an already
-- opened tree:
-- skips sync, e.g. a plain checkout for kedge budget), offline (render
-- with the site's kubeVersion instead of the cluster's capabilities).
function M.new(opts)
  assert(type(opts) == "table", "pass.new: options must be a table")
  local P = {opts = opts, mode = opts.mode or "apply", bundles = {}, rendered = {},
    results = {}, custom_steps = {}, smoke_funcs = {}, changes = 0,
    started = os.time(), state_dir = opts.state_dir}

  -- a line per step: to a person on a terminal, else to the log
  local function progress(step, msg)
    if opts.progress then
      opts.progress(step, msg)
    else
      log.info(step .. ": " .. msg, {site = P.site_name})
    end
  end
  P.progress = progress

  local function fail(step, code, msg)
    if not P.failure then
      P.failure = {step = step, code = code, message = msg}
    end
    log.error(step .. " failed: " .. msg, {site = P.site_name})
    return nil, msg
  end
  P.fail = fail

  local function blocked(step)
    if P.failure then
      return true, "skipped: the pass already failed in " .. P.failure.step
    end
    return false
  end

  local function need(step, what, have)
    if not have then
      return fail(step, M.EXIT.failed, step .. " needs " .. what .. " first")
    end
    return true
  end

  -- seconds to wait for readiness; --wait 0: not at all
  local function wait_for()
    if opts.wait == 0 then return nil end
    return opts.wait or 300
  end

  local function kube()
    if P.kube then return P.kube end
    local c, err = kube_mod.connect{kubeconfig = opts.kubeconfig, context = opts.context,
      deadline = opts.timeout}
    if not c then return nil, err end
    P.kube = c
    return c
  end
  P.kube_client = kube

  -- 1. sync: fetch and verify the config repo (or open what is served).
  function P.sync()
    local b, why = blocked("sync"); if b then return nil, why end
    if opts.tree then
      P.tree = opts.tree
      P.commit = {id = opts.tree_id or "working-tree"}
      progress("sync", "reading " .. (opts.tree_label or "the given tree"))
      return true
    end
    if opts.repo then
      local g = {repo = opts.repo, ref = opts.ref, state = opts.state_dir}
      for k, v in pairs(opts.git or {}) do g[k] = v end
      local r, err = git.sync(g)
      if not r then return fail("sync", M.EXIT.failed, err) end
      if r.refused then
        P.refused = r.refused
        log.warn("the new commit was refused; serving the last verified one",
          {why = r.refused, commit = r.commit})
      end
      progress("sync", string.format("%s at %s%s", opts.repo, (r.commit or ""):sub(1, 12),
        r.changed and " (new)" or ""))
    end
    local rev, err = git.open(opts.state_dir)
    if not rev then
      return fail("sync", M.EXIT.failed, err .. (opts.repo and "" or
        " (give --repo URL to fetch the config repo first)"))
    end
    P.tree = rev
    P.commit = rev:commit()
    if not opts.repo then progress("sync", "serving " .. rev:id():sub(1, 12)) end
    return true
  end

  -- 2. load: the repo's sites and bundles.
  function P.load()
    local b, why = blocked("load"); if b then return nil, why end
    if P.site then return true end -- loaded already (to find the site's recipe)
    local ok, e = need("load", "sync", P.tree); if not ok then return nil, e end
    local repo, err = site_mod.load(P.tree)
    if not repo then return fail("load", M.EXIT.failed, err) end
    P.repo = repo
    local s = repo.sites[P.site_name]
    if not s then
      local names = {}
      for n in pairs(repo.sites) do names[#names + 1] = n end
      table.sort(names)
      return fail("load", M.EXIT.failed, string.format(
        "no site %q in the config repo (sites/%s.yaml is missing; sites: %s); pass --site NAME",
        P.site_name, P.site_name, #names > 0 and table.concat(names, ", ") or "none"))
    end
    P.site = s
    local n = 0
    for _ in pairs(repo.bundles) do n = n + 1 end
    progress("load", string.format("site %s, %d bundle%s in the repo", P.site_name, n,
      n == 1 and "" or "s"))
    return true
  end

  -- 3. select: the bundles that target this site, in dependsOn order.
  function P.select()
    local b, why = blocked("select"); if b then return nil, why end
    local ok, e = need("select", "load", P.site); if not ok then return nil, e end
    local list, err = site_mod.select(P.repo, P.site_name)
    if not list then return fail("select", M.EXIT.failed, err) end
    P.bundles = list
    local names = {}
    for _, bd in ipairs(list) do names[#names + 1] = bd.name end
    P.bundle_names = names
    progress("select", #names > 0 and table.concat(names, ", ") or "no bundle targets this site")
    return true
  end

  local function bundle_by_name(name)
    for _, bd in ipairs(P.bundles) do
      if bd.name == name then return bd end
    end
  end

  local function result_of(name)
    local r = P.results[name]
    if not r then
      local bd = bundle_by_name(name) or {}
      r = {name = name, chart = bd.chart, release = bd.release, namespace = bd.namespace,
        created = 0, updated = 0, unchanged = 0, pruned = 0, errors = {}, smoke = {},
        status = "pending"}
      P.results[name] = r
    end
    return r
  end
  P.result_of = result_of

  -- 4. render: every selected bundle's chart with its values.
  function P.render()
    local b, why = blocked("render"); if b then return nil, why end
    local ok, e = need("render", "select", P.bundle_names); if not ok then return nil, e end
    local total = 0
    -- With a cluster (plan, apply), charts see its .Capabilities as Helm
    -- install shows them; offline (kedge budget), the site's kubeVersion.
    local ropts = {}
    if not opts.offline and #P.bundles > 0 then
      local c, cerr = kube()
      local caps = c and c:capabilities()
      if not caps then
        return fail("render", M.EXIT.failed, "the cluster's capabilities: " .. tostring(cerr or
          "discovery failed"))
      end
      ropts.kube_version = caps.KubeVersion.Version
      ropts.api_versions = caps.APIVersions
      ropts.api_versions_only = true
    end
    for _, bd in ipairs(P.bundles) do
      local manifests, err = site_mod.render(P.repo, P.site, bd, ropts)
      if not manifests then
        local r = result_of(bd.name)
        r.errors[#r.errors + 1] = err
        r.status = "failed"
        return fail("render", M.EXIT.failed, "bundle " .. bd.name .. ": " .. err)
      end
      P.rendered[bd.name] = manifests
      local objs = objects_of(manifests)
      P.rendered_objects = P.rendered_objects or {}
      P.rendered_objects[bd.name] = objs
      local r = result_of(bd.name)
      if type(manifests.chart) == "table" then
        r.chart, r.version = manifests.chart.name, manifests.chart.version
      end
      total = total + #objs
    end
    progress("render", string.format("%d bundle%s, %d objects", #P.bundles,
      #P.bundles == 1 and "" or "s", total))
    return true
  end

  -- 5. budget: refuse the whole pass before anything is touched.
  function P.budget()
    local b, why = blocked("budget"); if b then return nil, why end
    local ok, e = need("budget", "render", P.rendered_objects or #P.bundles == 0)
    if not ok then return nil, e end
    local input = {}
    for _, bd in ipairs(P.bundles) do
      input[#input + 1] = {bundle = bd.name, objects = P.rendered_objects[bd.name]}
    end
    local res, err = budget_mod.compute(P.site, input)
    if not res then return fail("budget", M.EXIT.failed, err) end
    P.budget_result = res
    P.budget_table = budget_mod.table(res)
    for _, row in ipairs(res.rows or {}) do
      if row.bundle and P.results[row.bundle] then P.results[row.bundle].budget = row end
    end
    for _, w in ipairs(res.warnings or {}) do log.warn("budget: " .. tostring(w)) end
    if not res.fits then
      return fail("budget", M.EXIT.budget, "the site's capacity is exceeded; nothing was applied\n"
        .. P.budget_table)
    end
    progress("budget", "fits")
    return true
  end

  -- The bundle's namespace as an object to create, when the cluster lacks
  -- it and the chart does not render it (Helm's --create-namespace).
  local function missing_namespace(c, bd, objs)
    if not bd.namespace then return nil end
    for _, o in ipairs(objs) do
      if o.kind == "Namespace" and o.metadata and o.metadata.name == bd.namespace then return nil end
    end
    local live, err = c:get("v1", "Namespace", "", bd.namespace)
    if live then return nil end
    if err ~= "not found" then return nil, err end
    return {apiVersion = "v1", kind = "Namespace", metadata = {name = bd.namespace}}
  end

  -- plan: a server-side dry run and diff per bundle; changes nothing.
  function P.plan()
    local b, why = blocked("plan"); if b then return nil, why end
    local ok, e = need("plan", "render", P.rendered_objects or #P.bundles == 0)
    if not ok then return nil, e end
    local c, err = kube()
    if not c then return fail("plan", M.EXIT.failed, err) end
    P.plans = {}
    for _, bd in ipairs(P.bundles) do
      local objs = P.rendered_objects[bd.name]
      local ns, nerr = missing_namespace(c, bd, objs)
      if nerr then return fail("plan", M.EXIT.failed, "bundle " .. bd.name .. ": " .. nerr) end
      if ns then
        local with_ns = {ns}
        for _, o in ipairs(objs) do with_ns[#with_ns + 1] = o end
        objs = with_ns
      end
      local res, perr = c:plan(objs, {bundle = bd.name, prune = true,
        namespace = bd.namespace, state_dir = opts.state_dir})
      if not res then return fail("plan", M.EXIT.failed, "bundle " .. bd.name .. ": " .. perr) end
      P.plans[bd.name] = res
      local n = 0
      for _, ch in ipairs(res.changes) do
        if ch.action ~= "unchanged" then n = n + 1 end
      end
      n = n + #res.prune
      P.changes = P.changes + n
      progress("plan", string.format("%s: %d change%s", bd.name, n, n == 1 and "" or "s"))
    end
    return true
  end

  local function state_path() return opts.state_dir .. "/state.json" end
  local function good_path(name)
    return opts.state_dir .. "/good-" .. P.site_name .. "/" .. name .. ".json"
  end

  -- STATE_DIR/state.json: {sites = {[site] = {bundles = {[name] = {commit=,
  -- at=, chart=, version=}}, last_pass = {...}}}}; one state directory
  -- may serve several sites of the same repo.
  local function read_all_state()
    local text = read_file(state_path())
    local st = text and json.decode(text, {name = state_path()})
    if type(st) ~= "table" then st = {} end
    st.sites = type(st.sites) == "table" and st.sites or {}
    return st
  end

  function P.read_state()
    local st = read_all_state().sites[P.site_name] or {}
    st.bundles = st.bundles or {}
    return st
  end

  -- Re-renders a failed bundle from its last good commit's tree and applies
  -- that. Returns the commit rolled back to, or nil and why not.
  local function rollback(bd)
    local st = P.read_state()
    local good = st.bundles[bd.name]
    if not good or not good.commit then return nil, "no earlier good revision" end
    if P.commit and good.commit == P.commit.id then
      return nil, "its last good revision is this commit (the cluster changed under it)"
    end
    local objs, ns
    local rev, err = git.open(opts.state_dir, good.commit)
    if rev then
      local repo, lerr = site_mod.load(rev)
      if not repo then return nil, lerr end
      local s = repo.sites[P.site_name]
      local old
      for _, x in ipairs((s and site_mod.select(repo, P.site_name)) or {}) do
        if x.name == bd.name then old = x end
      end
      if not old then return nil, "the bundle was not selected at " .. good.commit:sub(1, 12) end
      local manifests, rerr = site_mod.render(repo, s, old, {})
      rev:close()
      if not manifests then return nil, rerr end
      objs, ns = objects_of(manifests), old.namespace
    else
      -- kedge sync keeps only the newest trees: the objects recorded with
      -- the last good pass stand in for the re-render
      local text = read_file(good_path(bd.name))
      local saved = text and json.decode(text, {name = good_path(bd.name)})
      if type(saved) ~= "table" or saved.commit ~= good.commit then
        return nil, "the tree of " .. good.commit:sub(1, 12) .. " is gone (" .. err ..
          ") and no objects were recorded with it"
      end
      objs, ns = saved.objects, saved.namespace
    end
    local c = assert(kube())
    local res, aerr = c:apply(objs, {bundle = bd.name, prune = true,
      namespace = ns, state_dir = opts.state_dir, wait = wait_for()})
    if not res then return nil, aerr end
    return good.commit
  end

  local function apply_one(bd, c)
    local r = result_of(bd.name)
    local objs = P.rendered_objects[bd.name]
    local aopts = {bundle = bd.name, prune = true, namespace = bd.namespace,
      state_dir = opts.state_dir}
    local ns, nerr = missing_namespace(c, bd, objs)
    if nerr then return nil, nerr end
    if ns then
      -- created outside the bundle's set: bundles may share a namespace,
      -- and namespaces are never pruned anyway
      local ok, aerr = c:apply({ns}, {})
      if not ok then return nil, aerr end
      r.created = r.created + 1
    end
    local plan, perr = c:plan(objs, aopts)
    if not plan then return nil, perr end
    local changed = #plan.prune > 0
    r.updated, r.unchanged = 0, 0
    for _, ch in ipairs(plan.changes) do
      if ch.action == "create" then r.created = r.created + 1; changed = true
      elseif ch.action == "update" then r.updated = r.updated + 1; changed = true
      else r.unchanged = r.unchanged + 1 end
    end
    if changed then
      aopts.wait = wait_for()
      local res, err = c:apply(objs, aopts)
      if not res then return nil, err end
      r.pruned = 0
      for _, p in ipairs(res.pruned or {}) do
        if p.action == "deleted" then r.pruned = r.pruned + 1 end
      end
    elseif wait_for() then
      local ok, err = c:wait(objs, wait_for(), {namespace = bd.namespace})
      if not ok then return nil, err end
    end
    return true
  end

  local function mark_failed(bd, code, msg)
    local r = result_of(bd.name)
    r.status = "failed"
    r.errors[#r.errors + 1] = msg
    local to, why = rollback(bd)
    if to then
      r.rolled_back_to = to
      r.errors[#r.errors + 1] = "rolled back to " .. to .. ", its last good revision"
      progress("apply", bd.name .. ": rolled back to " .. to:sub(1, 12))
    else
      r.errors[#r.errors + 1] = "not rolled back: " .. why
      log.warn(bd.name .. ": not rolled back", {why = why})
    end
    return fail(code == M.EXIT.smoke and "smoke" or "apply", code, "bundle " .. bd.name .. ": " .. msg)
  end

  local function names_or_all(names)
    if names == nil then return P.bundles end
    if type(names) == "string" then names = {names} end
    local list = {}
    for _, n in ipairs(names) do
      local bd = bundle_by_name(n)
      if not bd then error("no selected bundle " .. tostring(n), 3) end
      list[#list + 1] = bd
    end
    return list
  end

  -- 6. apply: per bundle, in dependsOn order (names: one bundle or a list).
  function P.apply(names)
    local list = names_or_all(names)
    local b, why = blocked("apply"); if b then return nil, why end
    local ok, e = need("apply", "budget", P.budget_result); if not ok then return nil, e end
    if P.mode == "plan" then return fail("apply", M.EXIT.failed, "apply in a plan") end
    local c, err = kube()
    if not c then return fail("apply", M.EXIT.apply, err) end
    for _, bd in ipairs(list) do
      local r = result_of(bd.name)
      local done, aerr = apply_one(bd, c)
      if not done then return mark_failed(bd, M.EXIT.apply, aerr) end
      r.status = "applied"
      progress("apply", string.format("%s: %d created, %d updated, %d unchanged, %d pruned; ready",
        bd.name, r.created, r.updated, r.unchanged, r.pruned))
    end
    return true
  end

  -- 7. smoke: the bundles' smoke tests (after their apply).
  function P.smoke(names)
    local list = names_or_all(names)
    local b, why = blocked("smoke"); if b then return nil, why end
    for _, bd in ipairs(list) do
      local r = result_of(bd.name)
      if r.status ~= "applied" then
        return fail("smoke", M.EXIT.failed, "bundle " .. bd.name .. " was not applied")
      end
      local tests = bd.smoke or {}
      if #tests > 0 then
        local results = smoke_mod.run(tests, {kube = P.kube, bundle = bd.name,
          namespace = bd.namespace, release = bd.release,
          objects = P.rendered[bd.name], allow_exec = P.site.exec == true,
          funcs = P.smoke_funcs, log = function(msg, fields)
            local f = {bundle = bd.name}
            for k, v in pairs(type(fields) == "table" and fields or {}) do f[k] = v end
            log.info(msg, f)
          end})
        r.smoke = results
        local failed = {}
        for _, t in ipairs(results) do
          if t.status ~= "passed" then
            failed[#failed + 1] = string.format("%s (%s): %s", t.name, t.kind or "?",
              t.message or "failed")
          end
        end
        if #failed > 0 then
          return mark_failed(bd, M.EXIT.smoke, "smoke test failed: " .. table.concat(failed, "; "))
        end
        progress("smoke", string.format("%s: %d passed", bd.name, #results))
      end
      r.status = "ok"
    end
    return true
  end

  -- 8. record: the last good commit per bundle, written atomically.
  function P.record()
    if P.mode == "plan" or not opts.state_dir or not P.commit then return true end
    local all = read_all_state()
    local st = P.read_state()
    all.sites[P.site_name] = st
    local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
    local n = 0
    for _, bd in ipairs(P.bundles) do
      local r = P.results[bd.name]
      if r and r.status == "ok" then
        st.bundles[bd.name] = {commit = P.commit.id, at = now, chart = r.chart, version = r.version}
        n = n + 1
        local ok, err = kos.write_atomic(good_path(bd.name), json.encode({commit = P.commit.id,
          namespace = bd.namespace, objects = P.rendered_objects[bd.name]}))
        if not ok then return fail("record", M.EXIT.failed, err) end
      end
    end
    st.last_pass = {commit = P.commit.id, at = now,
      result = P.failure and "failed" or "success",
      report = P.report_obj and P.report_obj.id or nil}
    local ok, err = kos.write_atomic(state_path(), json.encode(all, {indent = 2}) .. "\n")
    if not ok then return fail("record", M.EXIT.failed, err) end
    progress("record", string.format("%d bundle%s recorded as good", n, n == 1 and "" or "s"))
    return true
  end

  -- Custom steps of a recipe: recorded in the report like the built-in ones.
  function P.step(name, fn)
    assert(type(name) == "string", "pass.step: a name first")
    assert(type(fn) == "function", "pass.step: then a function")
    local b, why = blocked(name); if b then return nil, why end
    local t0 = kos.monotonic()
    local ok, res, msg = pcall(fn)
    local rec = {name = name, duration = kos.monotonic() - t0}
    P.custom_steps[#P.custom_steps + 1] = rec
    if not ok or (not res and msg ~= nil) or res == false then
      rec.status = "failed"
      rec.message = tostring(ok and (msg or "returned false") or res)
      return fail(name, M.EXIT.failed, rec.message)
    end
    rec.status = "passed"
    progress(name, "passed")
    return true
  end

  local RESULT = {[M.EXIT.budget] = "budget-refused", [M.EXIT.apply] = "apply-failed",
    [M.EXIT.smoke] = "smoke-failed"}

  -- 9. report: written to the outbox, then delivered.
  function P.report()
    if P.mode == "plan" or not opts.state_dir then return true end
    if P.report_obj then return true end -- one report per pass
    local sig = P.commit and P.commit.signature
    local r = report_mod.new{site = P.site_name, repo = opts.repo, ref = opts.ref,
      commit = P.commit and P.commit.id ~= "working-tree" and P.commit.id or nil,
      signature = sig and {state = sig.state, principal = sig.principal, key = sig.key},
      started = P.started}
    P.report_obj = r
    for _, bd in ipairs(P.bundles) do
      local res = result_of(bd.name)
      if res.status == "pending" then res.status = "skipped" end
      report_mod.add_bundle(r, res)
    end
    if P.budget_result then report_mod.set_budget(r, P.budget_result) end
    for _, st in ipairs(P.custom_steps) do
      r.steps = r.steps or {}
      r.steps[#r.steps + 1] = st
    end
    if P.refused then r.errors[#r.errors + 1] = "sync: the new commit was refused: " .. P.refused end
    if P.failure then
      r.errors[#r.errors + 1] = P.failure.step .. ": " .. P.failure.message
    end
    report_mod.finish(r, P.failure and (RESULT[P.failure.code] or "failed") or "ok")
    local ok, err = report_mod.outbox_write(opts.state_dir, r)
    if not ok then return fail("report", M.EXIT.failed, err) end
    progress("report", "report " .. r.id .. " written to the outbox")
    if opts.deliver == false then return true end
    local dests = P.site and P.site.report or {}
    if #dests == 0 then return true end
    local sum, derr = report_mod.deliver(opts.state_dir, dests, {git = M.git_opts(opts)})
    if not sum then
      P.undelivered = derr
      return nil, derr
    end
    if #(sum.failed or {}) > 0 then
      local msgs = {}
      for _, f in ipairs(sum.failed) do
        msgs[#msgs + 1] = string.format("%s to %s: %s", f.id, f.destination, f.error)
      end
      P.undelivered = table.concat(msgs, "; ")
      return nil, P.undelivered
    end
    progress("report", string.format("%d deliver%s, %d pending", sum.delivered or 0,
      (sum.delivered or 0) == 1 and "y" or "ies", sum.pending or 0))
    return true
  end

  -- Facts about the pass so far, for recipes.
  function P.info()
    return {site = P.site_name, labels = P.site and P.site.labels, mode = P.mode,
      commit = P.commit and P.commit.id, bundles = P.bundle_names or {},
      failure = P.failure, results = P.results}
  end

  P.site_name = opts.site
  return P
end

-- The config repo's sync options, for status branches pushed to it.
function M.git_opts(opts)
  local g = {repo = opts.repo}
  for k, v in pairs(opts.git or {}) do g[k] = v end
  return g
end

-- The exit code of a finished pass.
function M.exit_code(P)
  if P.failure then return P.failure.code end
  if P.undelivered then return M.EXIT.undelivered end
  if P.mode == "plan" and P.changes > 0 then return M.EXIT.changes end
  return M.EXIT.ok
end

-- The view a sandboxed recipe gets: the steps (run outside the recipe's
-- limits), facts about the pass as copies, and callbacks that re-enter the
-- sandbox under the same limits.
function M.view(P, limits)
  -- plain data only: no client, no function, no userdata reaches the recipe
  local function copy(v, depth)
    local t = type(v)
    if t == "function" or t == "userdata" or t == "thread" then return nil end
    if t ~= "table" or depth > 8 then return v end
    local out = {}
    -- fields a table inherits (a context built with __index) count too
    local mt = getmetatable(v)
    if type(mt) == "table" and type(mt.__index) == "table" then
      for k, x in pairs(mt.__index) do out[k] = copy(x, depth + 1) end
    end
    for k, x in pairs(v) do out[k] = copy(x, depth + 1) end
    return out
  end
  -- every callback of the recipe shares one deadline, so calling back many
  -- times cannot add up to more than one recipe's worth of time
  local deadline = kos.monotonic() + (limits.timeout or M.RECIPE_LIMITS.timeout)
  local function guest(fn)
    return function(...)
      local left = deadline - kos.monotonic()
      if left <= 0 then
        error("recipe stopped: deadline exceeded (the time of its callbacks together)", 0)
      end
      local args = table.pack(...)
      for i = 1, args.n do args[i] = copy(args[i], 0) end
      local res = table.pack(sandbox.call(fn, {instructions = limits.instructions,
        memory = limits.memory, timeout = left}, table.unpack(args, 1, args.n)))
      if not res[1] then error(res[2], 0) end
      return table.unpack(res, 2, res.n)
    end
  end
  local v = {}
  for _, name in ipairs(M.STEPS) do
    if name ~= "sync" then v[name] = sandbox.host(function(...) return P[name](...) end) end
  end
  v.step = sandbox.host(function(name, fn)
    if type(fn) ~= "function" then error("pass.step: give a name and a function", 2) end
    return P.step(name, guest(fn))
  end)
  v.fail = sandbox.host(function(msg)
    return P.fail("recipe", M.EXIT.failed, tostring(msg))
  end)
  v.log = sandbox.host(function(msg, fields)
    log.info(tostring(msg), type(fields) == "table" and copy(fields, 0) or nil)
  end)
  v.smoke_func = sandbox.host(function(name, fn)
    if type(name) ~= "string" or type(fn) ~= "function" then
      error("pass.smoke_func: give a name and a function", 2)
    end
    P.smoke_funcs[name] = guest(fn)
  end)
  v.info = sandbox.host(function() return copy(P.info(), 0) end)
  return v
end

-- Runs a recipe over a new pass: sync first (the recipe comes from the
-- synced tree), then the recipe, then record and report when the recipe
-- did not run them. recipe: a function(pass) (trusted) or nil for the
-- site's own (`recipe:` in the site file) or the built-in default.
function M.run(P, recipe)
  local reached = {}
  local function track(name)
    local f = P[name]
    P[name] = function(...)
      reached[name] = true
      return f(...)
    end
  end
  for _, name in ipairs(M.STEPS) do track(name) end
  -- One apply at a time per state directory: two would race on the
  -- cluster, state.json and the inventories. Released when the process
  -- ends, whatever happens.
  local lock
  if P.mode == "apply" and P.opts.state_dir then
    local fs = require "kedge.os"
    local ok, merr = fs.mkdir(P.opts.state_dir)
    if ok then
      lock, merr = fs.lock(P.opts.state_dir .. "/pass.lock", P.opts.lock_timeout or 60)
    end
    if not lock then
      P.failure = {step = "lock", code = M.EXIT.failed, message = merr}
      return M.exit_code(P)
    end
  end
  P.sync()
  if not P.failure and not recipe then
    -- the recipe is named by the site, so the repo must load first
    P.load()
    local path = P.site and P.site.recipe
    if path and not P.failure then
      local text, err = P.tree:read(path)
      if not text then
        P.fail("recipe", M.EXIT.failed, "recipe " .. path .. ": " .. tostring(err))
      else
        local limits = M.RECIPE_LIMITS
        local fn, lerr = sandbox.load(text, "@" .. path)
        if not fn then
          P.fail("recipe", M.EXIT.failed, "recipe " .. path .. ": " .. lerr)
        else
          local ok, main = sandbox.call(fn, limits)
          if not ok then
            P.fail("recipe", M.EXIT.failed, "recipe " .. path .. ": " .. tostring(main))
          elseif type(main) ~= "function" then
            P.fail("recipe", M.EXIT.failed, "recipe " .. path ..
              ": must return a function(pass), not a " .. type(main))
          else
            P.progress("recipe", path)
            local view = M.view(P, limits)
            local rok, rerr = sandbox.call(main, limits, view)
            if not rok then
              rerr = tostring(rerr)
              local what = rerr:match("attempt to %a+ a nil value %(%a+ '([%w_.]+)'%)")
              if what then
                rerr = rerr .. "\n(" .. what .. " is not available: a recipe runs in kedge's "
                  .. "sandbox, without io, os.execute, require or load; it reaches only the pass object)"
              end
              P.fail("recipe", M.EXIT.failed, "recipe " .. path .. " failed: " .. rerr)
            end
          end
        end
      end
      recipe = false
    end
  end
  if recipe == nil then recipe = require "recipes.default" end
  if recipe and not P.failure then
    local ok, err = xpcall(recipe, debug.traceback, P)
    if not ok then P.fail("recipe", M.EXIT.failed, "recipe failed: " .. tostring(err)) end
  end
  if P.mode ~= "plan" then
    if not reached.record then P.record() end
    if not reached.report then P.report() end
  end
  if P.kube then P.kube:close() end
  if lock then lock:unlock() end
  return M.exit_code(P)
end

return M

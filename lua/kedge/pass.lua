-- kedge.pass: one reconcile pass (steps 1–9 of DESIGN.md) as an object, a
-- Pass, whose steps a recipe calls, wraps, reorders or extends.
--
--   local pass = require "kedge.pass"
--   local p = pass.new{repo = "https://git.example.org/sites.git", ref = "main",
--                      state_dir = "/var/lib/kedge", site = "berlin-01"}
--   local recipe = require "recipes.default"
--   local code = pass.run(p, recipe)      -- an exit code (pass.EXIT)
--
-- The steps are the table pass.STEPS, in the pass's order: each names its
-- function (a Pass method), the step whose result it needs, and what it
-- records on the pass. A pass has each step as a field that runs it through
-- one driver: p.load() or p:load() (recipes use the dot). The driver skips
-- a step once the pass failed (except those marked always: record and
-- report), checks what it needs, and notes the step in p.trail. Every step
-- returns true, or nil and a message; a failed step marks the pass failed
-- (p.failure = {step=, code=, message=, kind=}). Adding a step is one entry
-- in pass.STEPS and its method.
--
-- A custom recipe from the config repo runs in kedge.sandbox and sees only
-- the recipe view of the pass (pass.view): the steps and read-only facts.
local errors = require "kedge.errors"
local git = require "kedge.git"
local json = require "kedge.json"
local kedge = require "kedge"
local kos = require "kedge.os"
local limits = require "kedge.limits"
local log = require "kedge.log"
local sandbox = require "kedge.sandbox"

local M = {}

-- Exit codes of plan and apply (README: "Exit codes").
M.EXIT = {ok = 0, failed = 1, usage = 2, changes = 10, budget = 20, apply = 21,
  smoke = 22, undelivered = 23, images = 24}

-- The status of a bundle's result, of a step in p.trail and of a custom
-- step in the report.
M.STATUS = {PENDING = "pending", APPLIED = "applied", OK = "ok", FAILED = "failed",
  SKIPPED = "skipped", PASSED = "passed", HELD = "held"}

-- The result of a whole pass: in its report, and (SUCCESS, FAILED) in
-- state.json's last_pass.
M.RESULT = {OK = "ok", FAILED = "failed", SUCCESS = "success",
  BUDGET_REFUSED = "budget-refused", APPLY_FAILED = "apply-failed",
  SMOKE_FAILED = "smoke-failed", IMAGES_MISSING = "images-missing"}

-- The limits of a custom recipe's own code (the steps it calls are kedge's
-- and bounded by their own timeouts): limits.h's KD_LIMIT_RECIPE_*.
M.RECIPE_LIMITS = {instructions = limits.recipe_instructions, memory = limits.recipe_heap,
  timeout = limits.recipe_seconds}

local STATUS, RESULT = M.STATUS, M.RESULT

local function lazy(name)
  return setmetatable({}, {__index = function(t, k)
    local m = require(name)
    setmetatable(t, {__index = m})
    return m[k]
  end})
end
local site_mod, budget_mod, smoke_mod, report_mod, kube_mod, gates_mod, preflight_mod =
  lazy("kedge.site"), lazy("kedge.budget"), lazy("kedge.smoke"), lazy("kedge.report"),
  lazy("kedge.kube"), lazy("kedge.gates"), lazy("kedge.preflight")

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

local Pass = {}
Pass.__index = Pass
M.Pass = Pass

-- a line per step: to a person on a terminal, else to the log
function Pass:progress(step, msg)
  if self.opts.progress then
    self.opts.progress(step, msg)
  else
    log.info(step .. ": " .. msg, {site = self.site_name})
  end
end

-- Marks the pass failed (the first failure counts) and returns nil, msg.
-- msg may be an error value (kedge.errors): its kind is kept.
function Pass:fail(step, code, msg)
  local text = tostring(msg)
  if not self.failure then
    self.failure = {step = step, code = code, message = text, kind = errors.kind(msg)}
  end
  log.error(step .. " failed: " .. text, {site = self.site_name})
  return nil, text
end

-- seconds to wait for readiness; --wait 0: not at all
function Pass:wait_for()
  if self.opts.wait == 0 then return nil end
  return self.opts.wait or 300
end

function Pass:kube_client()
  if self.kube then return self.kube end
  local opts = self.opts
  -- the repo's health/<group>/<Kind>/health.lua scripts judge readiness of
  -- the kinds they cover; what they said goes into the bundle's report
  local health = require "kedge.health"
  local scripts = self.tree and health.open(self.tree) or nil
  local c, err = kube_mod.connect{kubeconfig = opts.kubeconfig, context = opts.context,
    deadline = opts.timeout, health = scripts, on_health = scripts and health.recorder(function(name)
      return self:bundle_by_name(name) and self:result_of(name)
    end)}
  if not c then return nil, err end
  self.kube = c
  return c
end

function Pass:bundle_by_name(name)
  for _, bd in ipairs(self.bundles) do
    if bd.name == name then return bd end
  end
end

function Pass:result_of(name)
  local r = self.results[name]
  if not r then
    local bd = self:bundle_by_name(name) or {}
    r = {name = name, chart = bd.chart, release = bd.release, namespace = bd.namespace,
      created = 0, updated = 0, unchanged = 0, pruned = 0, errors = {}, smoke = {},
      status = STATUS.PENDING}
    self.results[name] = r
  end
  return r
end

------------------------------------------------------------------------
-- the steps, in the pass's order (pass.STEPS lists them)

-- 1. sync: fetch and verify the config repo (or open what is served).
function Pass:sync()
  local opts = self.opts
  if opts.tree then
    self.tree = opts.tree
    self.commit = {id = opts.tree_id or "working-tree"}
    self:progress("sync", "reading " .. (opts.tree_label or "the given tree"))
    return true
  end
  if opts.repo then
    local g = {repo = opts.repo, ref = opts.ref, state = opts.state_dir}
    for k, v in pairs(opts.git or {}) do g[k] = v end
    local r, err = git.sync(g)
    if not r then return self:fail("sync", M.EXIT.failed, err) end
    if r.refused then
      self.refused = r.refused
      log.warn("the new commit was refused; serving the last verified one",
        {why = r.refused, commit = r.commit})
    end
    self:progress("sync", string.format("%s at %s%s", opts.repo, (r.commit or ""):sub(1, 12),
      r.changed and " (new)" or ""))
  end
  local rev, err = git.open(opts.state_dir)
  if not rev then
    return self:fail("sync", M.EXIT.failed, err .. (opts.repo and "" or
      " (give --repo URL to fetch the config repo first)"))
  end
  self.tree = rev
  self.commit = rev:commit()
  if not opts.repo then self:progress("sync", "serving " .. rev:id():sub(1, 12)) end
  return true
end

-- 2. load: the repo's sites and bundles.
function Pass:load()
  if self.site then return true end -- loaded already (to find the site's recipe)
  local repo, err = site_mod.load(self.tree)
  if not repo then return self:fail("load", M.EXIT.failed, err) end
  self.repo = repo
  local s = repo.sites[self.site_name]
  if not s then
    local names = {}
    for n in pairs(repo.sites) do names[#names + 1] = n end
    table.sort(names)
    return self:fail("load", M.EXIT.failed, string.format(
      "no site %q in the config repo (sites/%s.yaml is missing; sites: %s); pass --site NAME",
      self.site_name, self.site_name, #names > 0 and table.concat(names, ", ") or "none"))
  end
  self.site = s
  local n = 0
  for _ in pairs(repo.bundles) do n = n + 1 end
  self:progress("load", string.format("site %s, %d bundle%s in the repo", self.site_name, n,
    n == 1 and "" or "s"))
  if self.opts.narrow then self:narrow() end
  return true
end

-- Where a pass writes once the repo is loaded: the state directory, the
-- site's dir: report destinations, the temp folder (os.tmpname, the
-- commands of exec smoke tests) and /dev/null. {dirs=, files=}.
function Pass:write_paths()
  local dirs = {self.opts.state_dir}
  for _, d in ipairs(self.site and self.site.report or {}) do
    if type(d) == "table" and type(d.dir) == "string" then dirs[#dirs + 1] = d.dir end
  end
  local tmp = os.getenv("TMPDIR")
  if tmp and tmp ~= "" and tmp ~= "/tmp" then dirs[#dirs + 1] = tmp end
  dirs[#dirs + 1] = "/tmp"
  return {dirs = dirs, files = {"/dev/null"}}
end

-- After load, before anything a chart, a recipe or a smoke test brings
-- runs: no new privileges, and writes only to write_paths() (kedge.os
-- .narrow: Landlock) for the rest of the process and its children. A
-- kernel without Landlock keeps no_new_privs and is said once; a failure
-- to narrow is a warning, never a failed pass.
function Pass:narrow()
  if self.narrowed ~= nil or not self.opts.state_dir then return end
  kos.mkdir(self.opts.state_dir)
  local paths = self:write_paths()
  local res, err = kos.narrow(paths)
  self.narrowed = res or false
  if not res then
    log.warn("pass not narrowed: " .. tostring(err), {site = self.site_name})
  elseif res.landlock then
    log.debug("pass narrowed: no new privileges; writes only to " ..
      table.concat(paths.dirs, ", ") .. " and " .. table.concat(paths.files, ", "),
      {landlock_abi = res.landlock_abi})
  else
    log.info("pass narrowed to no new privileges only; writes are not restricted: " .. res.why,
      {site = self.site_name})
  end
end

-- What the release policy's gates (kedge.gates) see of the pass.
function Pass:gate_context()
  return {site = self.site, site_name = self.site_name, repo = self.repo, commit = self.commit,
    good = self.opts.state_dir and self:read_state().bundles or {}, opts = self.opts,
    state_dir = self.opts.state_dir,
    now = os.time(), result_of = self.result_of}
end

-- Holds a selected bundle back from this pass (held: {gate=, reason=,
-- until=}, as kedge.gates gives it): it keeps what runs now and leaves the
-- steps after this one; its result says why.
function Pass:hold(bd, held)
  for i, x in ipairs(self.bundles) do
    if x == bd then table.remove(self.bundles, i); break end
  end
  for i, n in ipairs(self.bundle_names or {}) do
    if n == bd.name then table.remove(self.bundle_names, i); break end
  end
  self.rendered[bd.name] = nil
  if self.rendered_objects then self.rendered_objects[bd.name] = nil end
  local r = self:result_of(bd.name)
  r.chart, r.release, r.namespace = r.chart or bd.chart, r.release or bd.release, r.namespace or bd.namespace
  r.status, r.held = STATUS.HELD, held
  self.held[#self.held + 1] = bd
  self:progress("select", string.format("%s held (%s): %s%s", bd.name, held.gate, held.reason,
    held["until"] and (" until " .. os.date("!%Y-%m-%dT%H:%M:%SZ", held["until"])) or ""))
end

-- 3. select: the bundles that target this site, in dependsOn order, less
-- those a gate of the release policy holds.
function Pass:select()
  local list, err = site_mod.select(self.repo, self.site_name)
  if not list then return self:fail("select", M.EXIT.failed, err) end
  self.bundles = list
  local names = {}
  for _, bd in ipairs(list) do names[#names + 1] = bd.name end
  self.bundle_names = names
  local ctx = #gates_mod.LIST > 0 and #list > 0 and self:gate_context()
  for _, bd in ipairs(ctx and {table.unpack(list)} or {}) do
    local held, _, gerr = gates_mod.ask(ctx, bd)
    if gerr then return self:fail("select", M.EXIT.failed, "bundle " .. bd.name .. ": " .. gerr) end
    if held then self:hold(bd, held) end
  end
  -- when a gate wants the next pass (a hold ends, a soak reruns smoke tests)
  self.wake = ctx and ctx.wake or nil
  self:progress("select", #names > 0 and table.concat(names, ", ") or
    (#self.held > 0 and "every bundle is held" or "no bundle targets this site"))
  return true
end

-- The function that decrypts the repo's .age files with the site's
-- identity (kedge.secrets), made once per pass; nil, err when the
-- identity file is unusable.
function Pass:decryptor()
  if not self.decrypt then
    local secrets = require "kedge.secrets"
    local dec, err = secrets.decryptor{identity = self.opts.identity,
      missing = self.opts.identity_hint or "--identity FILE"}
    if not dec then return nil, err end
    self.decrypt = dec
  end
  return self.decrypt
end

-- Where remote charts come from: one resolver a pass, caching in the
-- state directory (opts.registry: config, ca_file, insecure).
function Pass:charts()
  if not self.chart_source then
    self.chart_source = require("kedge.charts").new{state_dir = self.opts.state_dir,
      registry = self.opts.registry}
  end
  return self.chart_source
end

-- 4. render: every selected bundle's chart with its values.
function Pass:render()
  local total = 0
  -- With a cluster (plan, apply), charts see its .Capabilities as Helm
  -- install shows them; offline (kedge budget), the site's kubeVersion.
  local dec, derr = self:decryptor()
  if not dec then return self:fail("render", M.EXIT.failed, derr) end
  local ropts = {decrypt = dec, charts = self:charts()}
  if not self.opts.offline and #self.bundles > 0 then
    local c, cerr = self:kube_client()
    local caps = c and c:capabilities()
    if not caps then
      return self:fail("render", M.EXIT.failed, "the cluster's capabilities: " .. tostring(cerr or
        "discovery failed"))
    end
    ropts.kube_version = caps.KubeVersion.Version
    ropts.api_versions = caps.APIVersions
    ropts.api_versions_only = true
    -- and lookup answers from the cluster, as helm install's does
    ropts.lookup = c:lookup()
  end
  for _, bd in ipairs(self.bundles) do
    local manifests, err = site_mod.render(self.repo, self.site, bd, ropts)
    if not manifests then
      local r = self:result_of(bd.name)
      r.errors[#r.errors + 1] = err
      r.status = STATUS.FAILED
      return self:fail("render", M.EXIT.failed, "bundle " .. bd.name .. ": " .. err)
    end
    self.rendered[bd.name] = manifests
    local objs = objects_of(manifests)
    self.rendered_objects = self.rendered_objects or {}
    self.rendered_objects[bd.name] = objs
    local r = self:result_of(bd.name)
    if type(manifests.chart) == "table" then
      r.chart, r.version = manifests.chart.name, manifests.chart.version
    end
    total = total + #objs
  end
  self:progress("render", string.format("%d bundle%s, %d objects", #self.bundles,
    #self.bundles == 1 and "" or "s", total))
  return true
end

-- 5. budget: refuse the whole pass before anything is touched.
-- A held bundle keeps running its last good revision, and what that
-- uses counts against the site's capacity too: its objects re-rendered
-- from that revision's tree, as a rollback would (not counted, with a
-- warning, when the tree is gone).
function Pass:held_budget_input(input)
  if #self.held == 0 or not self.opts.state_dir then return end
  local good = self:read_state().bundles
  for _, bd in ipairs(self.held) do
    local g = good[bd.name]
    if g and g.commit then
      local objs, why = self:good_objects(bd, g)
      if objs then
        input[#input + 1] = {bundle = bd.name, objects = objs}
      else
        log.warn("budget: held bundle " .. bd.name .. " is left out: " .. tostring(why))
      end
    end
  end
end

function Pass:budget()
  local input = {}
  for _, bd in ipairs(self.bundles) do
    input[#input + 1] = {bundle = bd.name, objects = self.rendered_objects[bd.name]}
  end
  self:held_budget_input(input)
  local res, err = budget_mod.compute(self.site, input)
  if not res then return self:fail("budget", M.EXIT.failed, err) end
  self.budget_result = res
  self.budget_table = budget_mod.table(res)
  for _, row in ipairs(res.rows or {}) do
    if row.bundle and self.results[row.bundle] then self.results[row.bundle].budget = row end
  end
  for _, w in ipairs(res.warnings or {}) do log.warn("budget: " .. tostring(w)) end
  if not res.fits then
    return self:fail("budget", M.EXIT.budget, "the site's capacity is exceeded; nothing was applied\n"
      .. self.budget_table)
  end
  self:progress("budget", "fits")
  return true
end

-- 5b. images: the image preflight (kedge.preflight), right after the
-- budget: with the site's images: {require: present}, a missing image
-- refuses the pass before anything is touched. Offline (kedge budget)
-- there is no node to look at.
function Pass:images()
  if self.images_result ~= nil or self.opts.offline then return true end
  local res, err = preflight_mod.check(self.site, self.bundles, self.rendered_objects or {},
    {containerd_socket = self.opts.containerd_socket, pack = self.opts.pack})
  if res == nil then return self:fail("images", M.EXIT.failed, err) end
  self.images_result = res
  if res and #res.missing > 0 then return self:fail("images", M.EXIT.images, preflight_mod.refusal(res)) end
  if res then self:progress("images", preflight_mod.summary(res)) end
  return true
end

-- The bundle's namespace as an object to create, when the cluster lacks
-- it and the chart does not render it (Helm's --create-namespace).
local function missing_namespace(c, bd, objs)
  if not bd.namespace then return nil end
  for _, o in ipairs(objs) do
    if o.kind == "Namespace" and o.metadata and o.metadata.name == bd.namespace then return nil end
  end
  local live, err, status = c:get("v1", "Namespace", "", bd.namespace)
  if live then return nil end
  if status ~= 404 then return nil, err end
  return {apiVersion = "v1", kind = "Namespace", metadata = {name = bd.namespace}}
end

-- plan: a server-side dry run and diff per bundle; changes nothing.
function Pass:plan()
  local c, err = self:kube_client()
  if not c then return self:fail("plan", M.EXIT.failed, err) end
  self.plans = {}
  for _, bd in ipairs(self.bundles) do
    local objs = self.rendered_objects[bd.name]
    local ns, nerr = missing_namespace(c, bd, objs)
    if nerr then return self:fail("plan", M.EXIT.failed, "bundle " .. bd.name .. ": " .. nerr) end
    if ns then
      local with_ns = {ns}
      for _, o in ipairs(objs) do with_ns[#with_ns + 1] = o end
      objs = with_ns
    end
    local res, perr = c:plan(objs, {bundle = bd.name, prune = true,
      namespace = bd.namespace, state_dir = self.opts.state_dir})
    if not res then return self:fail("plan", M.EXIT.failed, "bundle " .. bd.name .. ": " .. perr) end
    self.plans[bd.name] = res
    local n = 0
    for _, ch in ipairs(res.changes) do
      if ch.action ~= "unchanged" then n = n + 1 end
    end
    n = n + #res.prune
    self.changes = self.changes + n
    self:progress("plan", string.format("%s: %d change%s", bd.name, n, n == 1 and "" or "s"))
  end
  return true
end

function Pass:state_path() return self.opts.state_dir .. "/state.json" end
function Pass:good_path(name)
  return self.opts.state_dir .. "/good-" .. self.site_name .. "/" .. name .. ".json"
end

-- STATE_DIR/state.json: {sites = {[site] = {bundles = {[name] = {commit=,
-- at=, since=, chart=, version=, history = {{commit=, at=, chart=, version=},
-- ...}}}, last_pass = {...}}}}; one state directory
-- may serve several sites of the same repo.
function Pass:read_all_state()
  local text = read_file(self:state_path())
  local st = text and json.decode(text, {name = self:state_path()})
  if type(st) ~= "table" then st = {} end
  st.sites = type(st.sites) == "table" and st.sites or {}
  return st
end

function Pass:read_state()
  local st = self:read_all_state().sites[self.site_name] or {}
  st.bundles = st.bundles or {}
  return st
end

-- The objects of a bundle at its last good commit good (re-rendered from
-- that commit's tree, else as recorded then), their namespace, and whether
-- they hold decrypted data. tree: that commit's tree when the caller has
-- it (kedge rollback, from the mirror), else rev/<commit>.
function Pass:good_objects(bd, good, tree)
  local rev, err = tree, nil
  if not rev then rev, err = git.open(self.opts.state_dir, good.commit) end
  if rev then
    local repo, lerr = site_mod.load(rev)
    if not repo then return nil, lerr end
    local s = repo.sites[self.site_name]
    local old
    for _, x in ipairs((s and site_mod.select(repo, self.site_name)) or {}) do
      if x.name == bd.name then old = x end
    end
    if not old then return nil, "the bundle was not selected at " .. good.commit:sub(1, 12) end
    local manifests, rerr = site_mod.render(repo, s, old, {decrypt = self:decryptor(), charts = self:charts()})
    rev:close()
    if not manifests then return nil, rerr end
    return objects_of(manifests), old.namespace, manifests.secret
  end
  -- kedge sync keeps only the newest trees: the objects recorded with
  -- the last good pass stand in for the re-render
  local text = read_file(self:good_path(bd.name))
  local saved = text and json.decode(text, {name = self:good_path(bd.name)})
  if type(saved) == "table" and saved.secret then
    return nil, "the tree of " .. good.commit:sub(1, 12) .. " is gone (" .. err ..
      "), and the objects of a bundle with secrets are never kept on disk"
  end
  if type(saved) ~= "table" or saved.commit ~= good.commit then
    return nil, "the tree of " .. good.commit:sub(1, 12) .. " is gone (" .. err ..
      ") and no objects were recorded with it"
  end
  return saved.objects, saved.namespace
end

-- A bundle whose soak failed (a smoke rerun while its wave soaks, see
-- kedge.gates.wave) goes back to the good revision before this commit:
-- that one becomes its good record again, so the next pass meets this
-- commit as new (and retries it, as after a failed apply). -> the entry
-- and the history from it on, or nil.
local function before_soak(good)
  for i, h in ipairs(type(good.history) == "table" and good.history or {}) do
    if type(h) == "table" and type(h.commit) == "string" and h.commit ~= good.commit then
      return h, {table.unpack(good.history, i)}
    end
  end
  return nil
end

function Pass:demote(bd, to, hist, objs, ns, secret)
  local ok, err = kos.write_atomic(self:good_path(bd.name), json.encode({commit = to.commit, namespace = ns,
    objects = not secret and objs or nil, secret = secret}))
  if not ok then return nil, err end
  local all = self:read_all_state()
  local st = all.sites[self.site_name] or {bundles = {}}
  all.sites[self.site_name] = st
  st.bundles[bd.name] = {commit = to.commit, at = to.at, since = to.at, chart = to.chart,
    version = to.version, history = hist,
    failed_soak = {commit = self.commit.id, at = os.date("!%Y-%m-%dT%H:%M:%SZ")}}
  return kos.write_atomic(self:state_path(), json.encode(all, {indent = 2}) .. "\n")
end

-- Re-renders a failed bundle from its last good commit's tree and applies
-- that. Returns the commit rolled back to, or nil and why not.
function Pass:rollback(bd)
  local st = self:read_state()
  local good = st.bundles[bd.name]
  if not good or not good.commit then return nil, "no earlier good revision" end
  local hist
  if self.commit and good.commit == self.commit.id and self:result_of(bd.name).soak then
    good, hist = before_soak(good)
    if not good then return nil, "no good revision before this commit (it failed while its wave soaked)" end
  elseif self.commit and good.commit == self.commit.id then
    return nil, "its last good revision is this commit (the cluster changed under it)"
  end
  local objs, ns, secret = self:good_objects(bd, good)
  if not objs then return nil, ns end
  local c = assert(self:kube_client())
  local res, aerr = c:apply(objs, {bundle = bd.name, prune = true,
    namespace = ns, state_dir = self.opts.state_dir, wait = self:wait_for()})
  if not res then return nil, aerr end
  if hist then
    local ok, derr = self:demote(bd, good, hist, objs, ns, secret)
    if not ok then return nil, derr end
  end
  return good.commit
end

-- Drift: at the commit a bundle was last applied good at, every change
-- the plan finds is someone else's doing (an object edited or deleted on
-- the cluster): it is re-applied and listed (object, action, fields). An
-- object annotated kedge.io/drift: ignore is left as it is (aopts.skip).
-- nil when the bundle's commit moved (the changes are the repo's).
function Pass:drift_of(bd, plan, aopts)
  if not aopts.force then return nil end
  local list = {}
  for _, ch in ipairs(plan.changes) do
    local what = string.format("%s/%s%s", ch.ref.kind, ch.ref.namespace ~= "" and (ch.ref.namespace .. "/") or "",
      ch.ref.name)
    if ch.action ~= "unchanged" and ch.drift_ignored then
      aopts.skip = aopts.skip or {}
      aopts.skip[kube_mod.key_of(ch.ref)] = true
      log.info("drift left alone (" .. kube_mod.DRIFT_ANNOTATION .. ": ignore)", {bundle = bd.name, object = what})
    elseif ch.action ~= "unchanged" then
      local fields = {}
      for i, line in ipairs(ch.diff or {}) do
        if i > 20 then break end
        fields[#fields + 1] = line
      end
      list[#list + 1] = {object = what, action = ch.action == "create" and "recreated" or "reverted",
        fields = kedge.list(fields)}
      log.warn("drift: " .. what .. (ch.action == "create" and " was deleted; recreating it" or
        " was changed; reverting it"), {bundle = bd.name})
    end
  end
  return kedge.list(list)
end

function Pass:apply_one(bd, c)
  local r = self:result_of(bd.name)
  local objs = self.rendered_objects[bd.name]
  local aopts = {bundle = bd.name, prune = true, namespace = bd.namespace,
    state_dir = self.opts.state_dir}
  local ns, nerr = missing_namespace(c, bd, objs)
  if nerr then return nil, nerr end
  if ns then
    -- created outside the bundle's set: bundles may share a namespace,
    -- and namespaces are never pruned anyway
    local ok, aerr = c:apply({ns}, {})
    if not ok then return nil, aerr end
    r.created = r.created + 1
  end
  -- at the commit last applied good, what differs is drift: kedge's
  -- fields are taken back from whoever changed them (force)
  -- what state.json said before this pass (read once; record rewrites it)
  self.good_before = self.good_before or self:read_state().bundles
  local good = self.good_before[bd.name]
  aopts.force = good and self.commit and good.commit == self.commit.id or nil
  local plan, perr = c:plan(objs, aopts)
  if not plan then return nil, perr end
  local changed = #plan.prune > 0
  r.updated, r.unchanged = 0, 0
  local drift = self:drift_of(bd, plan, aopts)
  for _, ch in ipairs(plan.changes) do
    if aopts.skip and aopts.skip[kube_mod.key_of(ch.ref)] then r.unchanged = r.unchanged + 1
    elseif ch.action == "create" then r.created = r.created + 1; changed = true
    elseif ch.action == "update" then r.updated = r.updated + 1; changed = true
    else r.unchanged = r.unchanged + 1 end
  end
  if drift then
    r.drift = drift
    self.drift_corrections = (self.drift_corrections or 0) + #drift
  end
  local wait = self:wait_for()
  if changed then
    aopts.wait = wait
    local res, err = c:apply(objs, aopts)
    if not res then return nil, err end
    r.pruned = 0
    for _, p in ipairs(res.pruned or {}) do
      if p.action == "deleted" then r.pruned = r.pruned + 1 end
    end
  elseif wait then
    local ok, err = c:wait(objs, wait, {namespace = bd.namespace})
    if not ok then return nil, err end
  end
  return true
end

function Pass:mark_failed(bd, code, msg)
  local r = self:result_of(bd.name)
  r.status = STATUS.FAILED
  r.errors[#r.errors + 1] = msg
  local to, why = self:rollback(bd)
  if to then
    r.rolled_back_to = to
    r.errors[#r.errors + 1] = "rolled back to " .. to .. ", its last good revision"
    self:progress("apply", bd.name .. ": rolled back to " .. to:sub(1, 12))
  else
    r.errors[#r.errors + 1] = "not rolled back: " .. why
    log.warn(bd.name .. ": not rolled back", {why = why})
  end
  return self:fail(code == M.EXIT.smoke and "smoke" or "apply", code, "bundle " .. bd.name .. ": " .. msg)
end

-- The bundles a step is given (one name or a list; nil: all selected), as
-- the step's argument; raises for a name not selected.
local function names_or_all(self, names)
  if names == nil then return self.bundles end
  if type(names) == "string" then names = {names} end
  local list = {}
  for _, n in ipairs(names) do
    local bd = self:bundle_by_name(n)
    if not bd then error("no selected bundle " .. tostring(n), 3) end
    list[#list + 1] = bd
  end
  return list
end

-- 6. apply: per bundle, in dependsOn order (names: one bundle or a list).
function Pass:apply(list)
  if self.mode == "plan" then return self:fail("apply", M.EXIT.failed, "apply in a plan") end
  local c, err = self:kube_client()
  if not c then return self:fail("apply", M.EXIT.apply, err) end
  for _, bd in ipairs(list) do
    local r = self:result_of(bd.name)
    local done, aerr = self:apply_one(bd, c)
    if not done then return self:mark_failed(bd, M.EXIT.apply, aerr) end
    r.status = STATUS.APPLIED
    self:progress("apply", string.format("%s: %d created, %d updated, %d unchanged, %d pruned; ready",
      bd.name, r.created, r.updated, r.unchanged, r.pruned))
  end
  return true
end

-- Bundles the cluster holds an inventory of (one site, one cluster) that
-- the repo no longer gives this site: what the inventory holds is pruned
-- (as an apply of an empty set), the inventory dropped, and the bundle
-- leaves state.json at the record step (self.removed). The inventory is
-- written before a bundle's objects are created, so a crash at any point
-- leaves nothing kedge created unowned.
function Pass:prune_removed()
  local c, cerr = self:kube_client()
  if not c then return self:fail("apply", M.EXIT.apply, cerr) end
  local now = {}
  for _, bd in ipairs(self.bundles) do now[bd.name] = true end
  for _, bd in ipairs(self.held) do now[bd.name] = true end
  local all, lerr = c:bundles()
  if not all then return self:fail("apply", M.EXIT.apply, "listing kedge's inventories: " .. lerr) end
  self.removed = {}
  for _, name in ipairs(all) do
    if now[name] then goto next end
    local res, err = c:apply({}, {bundle = name, prune = true, state_dir = self.opts.state_dir})
    if res then res.forgot, err = c:forget(name, self.opts.state_dir) end
    if not res or not res.forgot then
      return self:fail("apply", M.EXIT.apply, "removing bundle " .. name .. ": " .. tostring(err))
    end
    self.removed[#self.removed + 1] = name
    self:progress("apply", string.format("%s: no longer in the repo, %d pruned", name, #res.pruned))
    ::next::
  end
  return true
end

-- 7. smoke: the bundles' smoke tests (after their apply).
function Pass:smoke(list)
  for _, bd in ipairs(list) do
    local r = self:result_of(bd.name)
    if r.status ~= STATUS.APPLIED then
      return self:fail("smoke", M.EXIT.failed, "bundle " .. bd.name .. " was not applied")
    end
    local tests = bd.smoke or {}
    if #tests > 0 then
      local results = smoke_mod.run(tests, {kube = self.kube, bundle = bd.name,
        namespace = bd.namespace, release = bd.release,
        objects = self.rendered[bd.name], allow_exec = self.site.exec == true,
        funcs = self.smoke_funcs, log = function(msg, fields)
          local f = {bundle = bd.name}
          for k, v in pairs(type(fields) == "table" and fields or {}) do f[k] = v end
          log.info(msg, f)
        end})
      r.smoke = results
      local failed = {}
      for _, t in ipairs(results) do
        if t.status ~= STATUS.PASSED then
          failed[#failed + 1] = string.format("%s (%s): %s", t.name, t.kind or "?",
            t.message or "failed")
        end
      end
      if #failed > 0 then
        return self:mark_failed(bd, M.EXIT.smoke, "smoke test failed: " .. table.concat(failed, "; "))
      end
      self:progress("smoke", string.format("%s: %d passed", bd.name, #results))
    end
    r.status = STATUS.OK
  end
  return true
end

-- A bundle's good revisions, newest first, for kedge rollback: entry (a
-- new record of state.json: {commit=, at=, chart=, version=}) and the
-- ones old (the record it replaces) lists, another commit each, at most
-- limits.good_history.
function M.history(old, entry)
  local list = {{commit = entry.commit, at = entry.at, chart = entry.chart, version = entry.version}}
  local before = type(old) == "table" and (type(old.history) == "table" and old.history or {old}) or {}
  for _, h in ipairs(before) do
    if #list >= limits.good_history then break end
    if type(h) == "table" and type(h.commit) == "string" and h.commit ~= entry.commit then
      list[#list + 1] = {commit = h.commit, at = h.at, chart = h.chart, version = h.version}
    end
  end
  return list
end

-- 8. record: the last good commit per bundle, written atomically.
function Pass:record()
  if self.mode == "plan" or not self.opts.state_dir or not self.commit then return true end
  -- only after a whole pass: the site's bundles selected, none failed,
  -- and every one applied good
  if self.failure or not self.reached.select or not self.site then goto recorded end
  for _, bd in ipairs(self.bundles) do
    local r = self.results[bd.name]
    if not (r and r.status == STATUS.OK) then goto recorded end
  end
  self:prune_removed() -- a failure is the pass's; what was applied is still recorded
  ::recorded::
  local all = self:read_all_state()
  local st = self:read_state()
  all.sites[self.site_name] = st
  local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local n = 0
  for _, name in ipairs(self.removed or {}) do st.bundles[name] = nil end
  for _, bd in ipairs(self.bundles) do
    local r = self.results[bd.name]
    if r and r.status == STATUS.OK then
      local entry = {commit = self.commit.id, at = now, chart = r.chart, version = r.version}
      -- since: the first good pass of this commit (a soak counts from it;
      -- a record an older kedge wrote has only its last pass's time)
      local old = st.bundles[bd.name]
      local same = type(old) == "table" and old.commit == entry.commit
      entry.since = same and (old.since or old.at) or now
      entry.history = M.history(old, entry)
      st.bundles[bd.name] = entry
      n = n + 1
      -- decrypted data never reaches the disk: a bundle with secrets is
      -- re-rendered from its commit's tree when it must be rolled back
      local secret = self.rendered[bd.name] and self.rendered[bd.name].secret
      local ok, err = kos.write_atomic(self:good_path(bd.name), json.encode({commit = self.commit.id,
        namespace = bd.namespace, objects = not secret and self.rendered_objects[bd.name] or nil,
        secret = secret}))
      if not ok then return self:fail("record", M.EXIT.failed, err) end
    end
  end
  st.last_pass = {commit = self.commit.id, at = now,
    result = self.failure and RESULT.FAILED or RESULT.SUCCESS,
    report = self.report_obj and self.report_obj.id or nil}
  local ok, err = kos.write_atomic(self:state_path(), json.encode(all, {indent = 2}) .. "\n")
  if not ok then return self:fail("record", M.EXIT.failed, err) end
  self:progress("record", string.format("%d bundle%s recorded as good", n, n == 1 and "" or "s"))
  return true
end

local RESULT_OF_EXIT = {[M.EXIT.budget] = RESULT.BUDGET_REFUSED,
  [M.EXIT.apply] = RESULT.APPLY_FAILED, [M.EXIT.smoke] = RESULT.SMOKE_FAILED,
  [M.EXIT.images] = RESULT.IMAGES_MISSING}

-- Delivers the outbox to the site's destinations; a failed delivery is
-- not a failed pass (p.undelivered, exit 23).
function Pass:deliver()
  local dests = self.site and self.site.report or {}
  if #dests == 0 then return true end
  local sum, derr = report_mod.deliver(self.opts.state_dir, dests, {git = M.git_opts(self.opts)})
  if not sum then
    self.undelivered = derr
    return nil, derr
  end
  if #(sum.failed or {}) > 0 then
    local msgs = {}
    for _, f in ipairs(sum.failed) do
      msgs[#msgs + 1] = string.format("%s to %s: %s", f.id, f.destination, f.error)
    end
    self.undelivered = table.concat(msgs, "; ")
    return nil, self.undelivered
  end
  self:progress("report", string.format("%d deliver%s, %d pending", sum.delivered or 0,
    (sum.delivered or 0) == 1 and "y" or "ies", sum.pending or 0))
  return true
end

-- 9. report: written to the outbox, then delivered.
function Pass:report()
  local opts = self.opts
  if self.mode == "plan" or not opts.state_dir then return true end
  if self.report_obj then return true end -- one report per pass
  local sig = self.commit and self.commit.signature
  local r = report_mod.new{site = self.site_name, repo = opts.repo, ref = opts.ref,
    commit = self.commit and self.commit.id ~= "working-tree" and self.commit.id or nil,
    signature = sig and {state = sig.state, principal = sig.principal, key = sig.key},
    started = self.started}
  r.agent = opts.agent
  self.report_obj = r
  for _, bd in ipairs(self.bundles) do
    local res = self:result_of(bd.name)
    if res.status == STATUS.PENDING then res.status = STATUS.SKIPPED end
    report_mod.add_bundle(r, res)
  end
  for _, bd in ipairs(self.held) do report_mod.add_bundle(r, self:result_of(bd.name)) end
  if self.budget_result then report_mod.set_budget(r, self.budget_result) end
  if self.images_result then r.images = self.images_result end
  for _, st in ipairs(self.custom_steps) do
    r.steps = r.steps or {}
    r.steps[#r.steps + 1] = st
  end
  if self.refused then r.errors[#r.errors + 1] = "sync: the new commit was refused: " .. self.refused end
  if self.failure then
    r.errors[#r.errors + 1] = self.failure.step .. ": " .. self.failure.message
  end
  report_mod.finish(r, self.failure and (RESULT_OF_EXIT[self.failure.code] or RESULT.FAILED)
    or RESULT.OK)
  local ok, err = report_mod.outbox_write(opts.state_dir, r)
  if not ok then return self:fail("report", M.EXIT.failed, err) end
  self:progress("report", "report " .. r.id .. " written to the outbox")
  if opts.deliver == false then return true end
  return self:deliver()
end

-- The steps in the pass's order. name: the pass's field and the name in
-- logs and the report; run: the Pass method (pass, arg); needs: the step
-- whose result it needs, and ready(pass), whether that result is there;
-- next: the step that runs right after this one succeeds, whether the
-- recipe calls it or not (the image preflight goes with the budget: both
-- refuse the pass before anything is touched); args: turns the caller's
-- arguments into run's (before the pass may skip the step); always: runs
-- after a failure too, and after the recipe when it did not run it (apply
-- mode); recipe = false: not in a recipe's view; records: the pass fields
-- (or files) where it leaves its result, for the steps after it, the CLI
-- and the report.
local function rendered(p) return p.rendered_objects or #p.bundles == 0 end
M.STEPS = {
  {name = "sync", run = Pass.sync, recipe = false, records = {"tree", "commit", "refused"}},
  {name = "load", run = Pass.load, needs = "sync", ready = function(p) return p.tree end,
    records = {"repo", "site"}},
  {name = "select", run = Pass.select, needs = "load", ready = function(p) return p.site end,
    records = {"bundles", "bundle_names", "held", "results", "wake"}},
  {name = "render", run = Pass.render, needs = "select", ready = function(p) return p.bundle_names end,
    records = {"rendered", "rendered_objects", "results"}},
  {name = "budget", run = Pass.budget, needs = "render", ready = rendered, next = "images",
    records = {"budget_result", "budget_table", "results"}},
  {name = "images", run = Pass.images, needs = "render", ready = rendered, records = {"images_result"}},
  {name = "plan", run = Pass.plan, needs = "render", ready = rendered, records = {"plans", "changes"}},
  {name = "apply", run = Pass.apply, args = names_or_all,
    needs = "budget", ready = function(p) return p.budget_result end, records = {"results"}},
  {name = "smoke", run = Pass.smoke, args = names_or_all, records = {"results"}},
  {name = "record", run = Pass.record, always = true,
    records = {"STATE_DIR/state.json", "STATE_DIR/good-SITE/BUNDLE.json"}},
  {name = "report", run = Pass.report, always = true, records = {"report_obj", "undelivered"}},
}

local function skipped(p)
  return nil, "skipped: the pass already failed in " .. p.failure.step
end

-- The driver of every step: what pass.STEPS says, around the step's run.
-- p.trail gets {name=, status=} per step called, in order.
local function drive(p, step, ...)
  p.reached[step.name] = true
  local arg = ...
  if step.args then arg = step.args(p, ...) end
  local trail = p.trail
  if p.failure and not step.always then
    trail[#trail + 1] = {name = step.name, status = STATUS.SKIPPED}
    return skipped(p)
  end
  if step.needs and not step.ready(p) then
    trail[#trail + 1] = {name = step.name, status = STATUS.FAILED}
    return p:fail(step.name, M.EXIT.failed, step.name .. " needs " .. step.needs .. " first")
  end
  local ok, err = step.run(p, arg)
  trail[#trail + 1] = {name = step.name, status = ok and STATUS.OK or STATUS.FAILED}
  if ok and step.next then return p[step.next]() end
  return ok, err
end

-- Custom steps of a recipe: recorded in the report like the built-in ones.
function Pass:step(name, fn)
  assert(type(name) == "string", "pass.step: a name first")
  assert(type(fn) == "function", "pass.step: then a function")
  if self.failure then return skipped(self) end
  local t0 = kos.monotonic()
  local ok, res, msg = pcall(fn)
  local rec = {name = name, duration = kos.monotonic() - t0}
  self.custom_steps[#self.custom_steps + 1] = rec
  if not ok or (not res and msg ~= nil) or res == false then
    rec.status = STATUS.FAILED
    rec.message = tostring(ok and (msg or "returned false") or res)
    return self:fail(name, M.EXIT.failed, rec.message)
  end
  rec.status = STATUS.PASSED
  self:progress(name, "passed")
  return true
end

function Pass:held_names()
  local names = {}
  for _, bd in ipairs(self.held) do names[#names + 1] = bd.name end
  return names
end

-- Facts about the pass so far, for recipes.
function Pass:info()
  return {site = self.site_name, labels = self.site and self.site.labels, mode = self.mode,
    commit = self.commit and self.commit.id, bundles = self.bundle_names or {},
    held = self:held_names(), failure = self.failure, results = self.results}
end

-- f as a field of p: p.f(...) (as recipes call) and p:f(...) both work.
local function bind(p, f)
  return function(a, ...)
    if a == p then return f(p, ...) end
    return f(p, a, ...)
  end
end

-- The Pass methods callers reach as fields (besides the steps).
local BOUND = {"step", "fail", "info", "progress", "read_state", "result_of", "kube_client", "hold"}

-- opts: repo, ref, state_dir, site, kubeconfig, context, timeout (seconds
-- per API request deadline), wait (readiness timeout), git (extra options
-- for kedge.git.sync: ca_file, token_file, verify, trusted_keys, …), mode
-- ("apply" or "plan"), progress (function(step, message) or nil), deliver
-- (false to leave reports in the outbox), lock_timeout (seconds to wait
-- for another apply on the state directory, default 60), tree (an already
-- opened tree:
-- skips sync, e.g. a plain checkout for kedge budget), offline (render
-- with the site's kubeVersion instead of the cluster's capabilities),
-- registry (remote charts: {config=, ca_file=, insecure=}, kedge.charts'),
-- narrow (true: after load, no new privileges and writes only to
-- write_paths(), for the rest of the process: Pass:narrow).
function M.new(opts)
  assert(type(opts) == "table", "pass.new: options must be a table")
  local p = setmetatable({opts = opts, mode = opts.mode or "apply", bundles = {}, held = {}, rendered = {},
    results = {}, custom_steps = {}, smoke_funcs = {}, changes = 0,
    started = os.time(), state_dir = opts.state_dir, site_name = opts.site,
    trail = {}, reached = {}}, Pass)
  for _, step in ipairs(M.STEPS) do
    p[step.name] = bind(p, function(q, ...) return drive(q, step, ...) end)
  end
  for _, name in ipairs(BOUND) do p[name] = bind(p, Pass[name]) end
  return p
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

-- The view a sandboxed recipe gets: the steps (run outside the recipe's
-- limits, on plain copies of what the recipe hands them: no metamethod of
-- the recipe's runs in them), facts about the pass as copies, and
-- callbacks that re-enter the sandbox under the same limits.
function M.view(P, lim)
  -- every callback of the recipe shares one deadline, so calling back many
  -- times cannot add up to more than one recipe's worth of time
  -- (on the sandbox's own clock, so a callback stopped at the deadline
  -- leaves none for the next)
  local deadline = sandbox.now() + (lim.timeout or M.RECIPE_LIMITS.timeout)
  -- message: fn is a step, whose second result (its failure's message)
  -- is made a string inside the run, under the caps (a __tostring is
  -- recipe code); kedge's own error values keep their kind
  local function guest(fn, message)
    local run = fn
    if message then
      run = function(...)
        local r = table.pack(fn(...))
        if r.n >= 2 and type(r[2]) == "table" and not errors.kind(r[2]) then r[2] = tostring(r[2]) end
        return table.unpack(r, 1, r.n)
      end
    end
    return function(...)
      local left = deadline - sandbox.now()
      if left <= 0 then
        error("recipe stopped: deadline exceeded (the time of its callbacks together)", 0)
      end
      local args = table.pack(...)
      for i = 1, args.n do args[i] = copy(args[i], 0) end
      local res = table.pack(sandbox.call(run, {instructions = lim.instructions,
        memory = lim.memory, timeout = left}, table.unpack(args, 1, args.n)))
      if not res[1] then error(res[2], 0) end
      return table.unpack(res, 2, res.n)
    end
  end
  -- a name the view lacks is noted, for the "not available" hint
  local v = setmetatable({}, {__index = sandbox.absent})
  for _, step in ipairs(M.STEPS) do
    local name = step.name
    if step.recipe ~= false then v[name] = sandbox.host(function(...) return P[name](...) end) end
  end
  v.step = sandbox.host(function(name, fn)
    if type(fn) ~= "function" then error("pass.step: give a name and a function", 2) end
    return P.step(name, guest(fn, true))
  end)
  -- a message is made a string by the sandbox, under the recipe's caps
  -- (its __tostring is recipe code); fields, as every argument, come as
  -- plain copies (sandbox.host)
  v.fail = sandbox.host(function(msg)
    return P.fail("recipe", M.EXIT.failed, msg)
  end, 1)
  v.log = sandbox.host(function(msg, fields)
    log.info(msg, type(fields) == "table" and copy(fields, 0) or nil)
  end, 1)
  v.smoke_func = sandbox.host(function(name, fn)
    if type(name) ~= "string" or type(fn) ~= "function" then
      error("pass.smoke_func: give a name and a function", 2)
    end
    P.smoke_funcs[name] = guest(fn)
  end)
  v.info = sandbox.host(function() return copy(P.info(), 0) end)
  return v
end

------------------------------------------------------------------------
-- a site's own recipe

-- Compiles a site's recipe (text of the file path) in a fresh sandbox and
-- runs its chunk, which returns the function(pass) to call: that function,
-- or nil and an error value (RECIPE_SYNTAX with file and line, LIMIT,
-- RECIPE_RUNTIME, VALIDATION).
function M.compile_recipe(text, path, lim)
  local K = errors.KIND
  local fn, lerr = sandbox.load(text, "@" .. path)
  if not fn then return nil, errors.located(K.RECIPE_SYNTAX, lerr, path) end
  local ok, main, kind = sandbox.call(fn, lim or M.RECIPE_LIMITS)
  if not ok then
    return nil, errors.located(kind == "limit" and K.LIMIT or K.RECIPE_RUNTIME, main, path)
  end
  if type(main) ~= "function" then
    return nil, errors.new(K.VALIDATION, "must return a function(pass), not a " .. type(main))
  end
  return main
end

-- Calls a compiled recipe with the pass's view: true, or nil and an error
-- value (LIMIT or RECIPE_RUNTIME; absent: the name it lacked, if that is
-- why it failed).
function M.call_recipe(P, main, path, lim)
  lim = lim or M.RECIPE_LIMITS
  local ok, msg, kind, absent = sandbox.call(main, lim, M.view(P, lim))
  if ok then return true end
  local e = errors.located(kind == "limit" and errors.KIND.LIMIT or errors.KIND.RECIPE_RUNTIME,
    msg, path)
  e.absent = absent
  return nil, e
end

-- Reads, compiles and runs the recipe the site names; a failure fails the
-- pass in step "recipe".
local function run_site_recipe(P, path)
  local text, err = P.tree:read(path)
  if not text then
    return P:fail("recipe", M.EXIT.failed, "recipe " .. path .. ": " .. tostring(err))
  end
  local main, cerr = M.compile_recipe(text, path)
  if not main then
    return P:fail("recipe", M.EXIT.failed, errors.new(cerr.kind, "recipe " .. path .. ": " .. cerr))
  end
  P:progress("recipe", path)
  local ok, rerr = M.call_recipe(P, main, path)
  if ok then return true end
  local msg = "recipe " .. path .. " failed: " .. rerr
  if rerr.absent then
    msg = msg .. "\n(" .. rerr.absent .. " is not available: a recipe runs in kedge's "
      .. "sandbox, without io, os.execute, require or load; it reaches only the pass object)"
  end
  return P:fail("recipe", M.EXIT.failed, errors.new(rerr.kind, msg))
end

-- One apply at a time per state directory: two would race on the cluster,
-- state.json and the inventories. Released when the process ends,
-- whatever happens. Returns the lock, or nil and why not.
local function lock_state(P)
  local fs = require "kedge.os"
  local ok, err = fs.mkdir(P.opts.state_dir)
  if not ok then return nil, err end
  return fs.lock(P.opts.state_dir .. "/pass.lock", P.opts.lock_timeout or 60)
end

-- Runs a recipe over a new pass: sync first (the recipe comes from the
-- synced tree), then the recipe, then the steps marked always (record and
-- report) when the recipe did not run them. recipe: a function(pass)
-- (trusted) or nil for the site's own (`recipe:` in the site file) or the
-- built-in default.
function M.run(P, recipe)
  local lock
  if P.mode == "apply" and P.opts.state_dir then
    local lerr
    lock, lerr = lock_state(P)
    if not lock then
      P.failure = {step = "lock", code = M.EXIT.failed, message = lerr}
      return M.exit_code(P)
    end
  end
  P.sync()
  if not P.failure and not recipe then
    -- the recipe is named by the site, so the repo must load first
    P.load()
    local path = P.site and P.site.recipe
    if path and not P.failure then
      run_site_recipe(P, path)
      recipe = false
    end
  end
  if recipe == nil then recipe = require "recipes.default" end
  if recipe and not P.failure then
    local ok, err = xpcall(recipe, debug.traceback, P)
    if not ok then P:fail("recipe", M.EXIT.failed, "recipe failed: " .. tostring(err)) end
  end
  if P.mode ~= "plan" then
    for _, step in ipairs(M.STEPS) do
      if step.always and not P.reached[step.name] then P[step.name]() end
    end
  end
  if P.kube then P.kube:close() end
  if lock then lock:unlock() end
  return M.exit_code(P)
end

return M

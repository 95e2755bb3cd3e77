-- kedge.kube: kedge's Kubernetes client, over kedge.http (core/net) with
-- the kubeconfig rules of core/kube/kube.h.
--
--   local kube = require "kedge.kube"
--   local c = assert(kube.connect{kubeconfig = "/etc/rancher/k3s/k3s.yaml"})
--   local res, err = c:apply(objects, {bundle = "web", prune = true, wait = 120})
--
-- connect{kubeconfig=, context=, namespace=, field_manager=, timeout=
--   (seconds per attempt, default 30), attempts= (per request, default 5),
--   deadline=, health= (kedge.health scripts from the repo: their answer
--   decides readiness for the kinds they cover), on_health= (function(obj,
--   res, bundle), told each script's answer in a wait, with the bundle label
--   of the object)} → client, or nil, err
-- client:discover([refresh]) → {version=, api_versions=, resources=}
-- client:get(obj | apiVersion, kind, namespace, name) → object, or nil, err,
--   status (err is "not found" for a 404)
-- client:list(apiVersion, kind [, {namespace=, selector=, all_namespaces=}])
--   → list of objects
-- client:delete(obj [, {uid=}]) → true ("gone" when it was already absent)
-- client:apply(objs, opts) → result, or nil, err, result (see apply)
-- client:plan(objs, opts) → changes (see plan)
-- client:wait(objs, timeout) → true, or nil, err naming each object not ready
-- client:stats() → {requests=, ...} of the HTTP client
-- client:capabilities() → Helm's .Capabilities for this cluster
-- client:lookup() → a function for kedge.tmpl.render{lookup=} (Helm's lookup)
-- client:inventory(bundle [, state_dir]) → the objects the bundle's last
--   apply recorded
-- kube.ready(obj) → ready (boolean), reason (string), "failed" when waiting
--   cannot help — the readiness rules
-- client:ready(obj) → the same, and the health script's result as a fourth
--   value when the client's scripts judged obj
-- kube.diff(live, want) → lines of a readable diff
--
-- Operational failures return nil, err; programming errors raise.
local errors = require "kedge.errors"
local http = require "kedge.http"
local json = require "kedge.json"
local kubeconfig = require "kedge.kubeconfig"
local kos = require "kedge.os"
local log = require "kedge.log"
local kedge = require "kedge"

local M = {}
local Client = {}
Client.__index = Client

local is_null = kedge.is_null

M.FIELD_MANAGER = "kedge"
M.BUNDLE_LABEL = "kedge.io/bundle"
M.INVENTORY_NAMESPACE = "kedge-system"

-- Helm 3's install order (kinds first to last); unknown kinds go after.
local INSTALL_ORDER = require("kedge.chart").INSTALL_ORDER
local ORDER = {}
for i, k in ipairs(INSTALL_ORDER) do ORDER[k] = i end
M.INSTALL_ORDER = INSTALL_ORDER

-- --- helpers ----------------------------------------------------------------

local function esc(s)
  return (tostring(s):gsub("[^%w%-%._~]", function(ch) return string.format("%%%02X", ch:byte()) end))
end

local function split_api_version(av)
  local g, v = av:match("^([^/]+)/([^/]+)$")
  if g then return g, v end
  return "", av
end

local function meta(obj)
  local m = obj.metadata
  if type(m) ~= "table" or is_null(m) then return {} end
  return m
end

-- "apps/Deployment web/frontend": how messages name an object
local function describe(r)
  local gk = (r.group ~= "" and r.group .. "/" or "") .. r.kind
  return gk .. " " .. ((r.namespace or "") ~= "" and r.namespace .. "/" or "") .. r.name
end
M.describe = describe

local function ref_of(obj)
  local g = split_api_version(obj.apiVersion)
  local m = meta(obj)
  return {group = g, kind = obj.kind, namespace = m.namespace or "", name = m.name}
end

local function key_of(r)
  return table.concat({r.group, r.kind, r.namespace or "", r.name}, "\0")
end

local function deep_copy(v)
  if type(v) ~= "table" or is_null(v) then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = deep_copy(x) end
  return setmetatable(c, getmetatable(v))
end
M.copy = deep_copy

-- The message of a Kubernetes Status (or the raw body).
local function status_message(resp, body)
  if type(body) == "table" and body.message then return body.message end
  local b = (resp and resp.body or ""):gsub("^%s+", ""):gsub("%s+$", "")
  if #b > 300 then b = b:sub(1, 300) .. "…" end
  return b
end

local REASONS = {[400] = "Bad Request", [401] = "Unauthorized", [403] = "Forbidden",
  [404] = "Not Found", [409] = "Conflict", [422] = "Invalid", [429] = "Too Many Requests",
  [500] = "Internal Server Error", [503] = "Service Unavailable"}

local function api_error(what, status, body, resp)
  local msg = string.format("%s: %d %s: %s", what, status, REASONS[status] or "error",
    status_message(resp, body))
  if status == 401 then
    msg = msg .. " (the credentials in the kubeconfig were refused)"
  elseif status == 403 then
    msg = msg .. " (the kubeconfig's user lacks RBAC rights for this)"
  end
  return msg
end

-- --- connection -------------------------------------------------------------

function M.connect(opts)
  opts = opts or {}
  assert(type(opts) == "table", "kube.connect: options must be a table")
  local cfg, err = kubeconfig.load{kubeconfig = opts.kubeconfig, context = opts.context}
  if not cfg then return nil, err end
  -- The key and token are kedge.Secret values: the HTTP client keeps what
  -- it needs in C, and these are wiped when connect returns.
  local key <close> = cfg.key_pem
  local token <close> = cfg.token
  if cfg.insecure then
    log.warn("insecure-skip-tls-verify is set: the API server's certificate is NOT verified; "
      .. "anyone on the network path can read the credentials and change what kedge applies",
      {server = cfg.server, kubeconfig = cfg.source})
  end
  local hc, herr = http.client{ca_file = cfg.ca_file, ca_pem = cfg.ca_pem,
    cert_file = cfg.cert_file, key_file = cfg.key_file, cert_pem = cfg.cert_pem,
    key_pem = key, token = token, insecure = cfg.insecure, deadline = opts.deadline}
  if not hc then return nil, cfg.source .. ": " .. herr end
  local c = setmetatable({
    server = cfg.server:gsub("/+$", ""),
    namespace = opts.namespace or cfg.namespace or "default",
    context = cfg.context,
    source = cfg.source,
    field_manager = opts.field_manager or M.FIELD_MANAGER,
    timeout = opts.timeout or 30,
    attempts = opts.attempts or 5,
    http = hc,
    health = opts.health,
    on_health = opts.on_health,
    _gv = {},        -- group version → {Kind → resource} (discovery cache)
    _requests = 0,
  }, Client)
  return c
end

function Client:close()
  if self.http then self.http:close() end
end
Client.__close = Client.close

function Client:stats()
  local s = self.http:stats()
  s.api_requests = self._requests
  return s
end

-- One API call: method, path, body (a Lua value or string), content type.
-- Returns status, decoded body, raw response; or nil, err.
function Client:call(method, path, body, ctype, idempotent)
  local headers = {Accept = "application/json", ["User-Agent"] = "kedge/" .. kedge.version}
  if body ~= nil then
    if type(body) ~= "string" then body = json.encode(body) end
    headers["Content-Type"] = ctype or "application/json"
  end
  self._requests = self._requests + 1
  local r, err = self.http:request{method = method, url = self.server .. path,
    headers = headers, body = body, timeout = self.timeout, attempts = self.attempts,
    idempotent = idempotent}
  if not r then return nil, err end -- it names the method and URL
  local decoded, jerr
  if r.body ~= "" and (r.headers["content-type"] or ""):find("json", 1, true) then
    decoded, jerr = json.decode(r.body, {name = method .. " " .. path})
    if not decoded then return nil, "the API server's answer is not valid JSON: " .. jerr end
  end
  return r.status, decoded, r
end

-- --- discovery ----------------------------------------------------------------

-- The resources of one group version ("v1", "apps/v1"): Kind → {name=,
-- namespaced=, verbs=}; an empty table when the server does not serve it.
function Client:_resources(gv)
  local cached = self._gv[gv]
  if cached then return cached end
  local path = gv:find("/", 1, true) and "/apis/" .. gv or "/api/" .. gv
  local st, body, resp = self:call("GET", path)
  if not st then return nil, body end
  local kinds = {}
  if st == 200 and type(body) == "table" and body.resources then
    for _, r in ipairs(body.resources) do
      if not r.name:find("/", 1, true) then
        kinds[r.kind] = {name = r.name, namespaced = r.namespaced, verbs = r.verbs}
      end
    end
  elseif st ~= 404 then
    return nil, api_error("discovery of " .. gv, st, body, resp), st
  end
  -- a 404 (a group that a CRD is about to define) is not cached
  if st == 200 then self._gv[gv] = kinds end
  return kinds
end

-- Forgets what discovery knew about one group (after a CRD apply) or all.
function Client:invalidate(group)
  for gv in pairs(self._gv) do
    if not group or split_api_version(gv) == group then self._gv[gv] = nil end
  end
  self._discovery = nil
end

-- kind → resource for an apiVersion: {name=, namespaced=} or nil, err
function Client:resolve(api_version, kind)
  local kinds, err = self:_resources(api_version)
  if not kinds then return nil, err end
  local r = kinds[kind]
  if not r then
    return nil, string.format("the server has no kind %s in %s (is its CRD installed?)", kind,
      api_version), errors.KIND.NOT_FOUND
  end
  return r
end

-- Everything the server serves: version, api_versions (group versions and
-- "group/version/Kind", as Helm's .Capabilities.APIVersions lists them) and
-- resources per group version. Cached until invalidated or refresh.
function Client:discover(refresh)
  if self._discovery and not refresh then return self._discovery end
  if refresh then self:invalidate() end
  local st, ver, resp = self:call("GET", "/version")
  if not st then return nil, ver end
  if st ~= 200 then return nil, api_error("GET /version", st, ver, resp) end
  local gvs = {}
  local st2, core, r2 = self:call("GET", "/api")
  if not st2 then return nil, core end
  if st2 ~= 200 then return nil, api_error("GET /api", st2, core, r2) end
  for _, v in ipairs(core.versions or {}) do gvs[#gvs + 1] = v end
  local st3, groups, r3 = self:call("GET", "/apis")
  if not st3 then return nil, groups end
  if st3 ~= 200 then return nil, api_error("GET /apis", st3, groups, r3) end
  local preferred = {[""] = "v1"}
  for _, g in ipairs(groups.groups or {}) do
    for _, v in ipairs(g.versions or {}) do gvs[#gvs + 1] = v.groupVersion end
    if g.preferredVersion then preferred[g.name] = g.preferredVersion.version end
  end
  local api_versions, resources = {}, {}
  for _, gv in ipairs(gvs) do
    local kinds, err, st4 = self:_resources(gv)
    if not kinds then
      -- an aggregated API whose backend is down (metrics-server starting
      -- on k3s) answers 503: leave it out, as kubectl does, and say so
      if st4 ~= 503 then return nil, err end
      log.warn("discovery: leaving out an unavailable API", {group_version = gv, error = err})
    elseif next(kinds) == nil and not self._gv[gv] then
      kinds = nil -- 404: listed in /apis but not served (yet)
    end
    if kinds then
      resources[gv] = kinds
      api_versions[#api_versions + 1] = gv
      local names = {}
      for k in pairs(kinds) do names[#names + 1] = k end
      table.sort(names)
      for _, k in ipairs(names) do api_versions[#api_versions + 1] = gv .. "/" .. k end
    end
  end
  self._discovery = {version = ver, api_versions = kedge.list(api_versions),
    resources = resources, preferred = preferred}
  return self._discovery
end

-- Helm's .Capabilities for templates rendered for this cluster:
-- {KubeVersion = {Version=, Major=, Minor=, GitVersion=}, APIVersions = list}.
function Client:capabilities()
  local d, err = self:discover()
  if not d then return nil, err end
  local v = d.version
  return {
    KubeVersion = {Version = v.gitVersion, GitVersion = v.gitVersion,
      Major = v.major, Minor = v.minor},
    APIVersions = d.api_versions,
  }
end

-- A function for kedge.tmpl.render's `lookup` option: Helm's lookup
-- against this cluster, read-only. A name of "" lists (a *List object with
-- items), a namespace of "" lists all namespaces; an absent object is an
-- empty map, as in Helm; a kind the server lacks and API errors fail the
-- render.
function Client:lookup()
  return function(api_version, kind, namespace, name)
    local res, err = self:resolve(api_version, kind)
    if not res then return nil, err end
    if name == "" then
      local items, lerr = self:list(api_version, kind, {
        namespace = namespace ~= "" and namespace or nil,
        all_namespaces = namespace == ""})
      if not items then return nil, lerr end
      return {apiVersion = api_version, kind = kind .. "List", metadata = {}, items = items}
    end
    local obj, gerr, gst = self:get(api_version, kind, namespace, name)
    if not obj then
      if gst == 404 then return {} end
      return nil, gerr
    end
    return obj
  end
end

-- --- paths and reads --------------------------------------------------------------

-- The URL path of an object (or of its collection when name is nil).
function Client:path(api_version, kind, namespace, name)
  local res, err = self:resolve(api_version, kind)
  if not res then return nil, err end
  local p = (api_version:find("/", 1, true) and "/apis/" or "/api/") .. api_version
  if res.namespaced then
    if not namespace or namespace == "" then namespace = self.namespace end
    p = p .. "/namespaces/" .. esc(namespace)
  end
  p = p .. "/" .. res.name
  if name then p = p .. "/" .. esc(name) end
  return p, res
end

local function args_of(a, kind, namespace, name)
  if type(a) == "table" then
    local m = meta(a)
    return a.apiVersion, a.kind, m.namespace, m.name
  end
  return a, kind, namespace, name
end

function Client:get(a, kind, namespace, name)
  local av, k, ns, nm = args_of(a, kind, namespace, name)
  local p, err = self:path(av, k, ns, nm)
  if not p then return nil, err end
  local st, body, resp = self:call("GET", p)
  if not st then return nil, body end
  if st == 404 then return nil, "not found", 404 end
  if st ~= 200 then return nil, api_error("GET " .. p, st, body, resp), st end
  return body
end

-- list(apiVersion, kind [, {namespace=, selector=, all_namespaces=}]):
-- the objects of a kind in one namespace (default the client's) or, with
-- all_namespaces, in all; selector is a label selector ("app=web,tier!=db").
-- Items get the kind and apiVersion a list response leaves out.
function Client:list(api_version, kind, opts)
  opts = opts or {}
  local res, err = self:resolve(api_version, kind)
  if not res then return nil, err end
  local p = (api_version:find("/", 1, true) and "/apis/" or "/api/") .. api_version
  if res.namespaced and not opts.all_namespaces then
    p = p .. "/namespaces/" .. esc(opts.namespace or self.namespace)
  end
  p = p .. "/" .. res.name
  if opts.selector then p = p .. "?labelSelector=" .. esc(opts.selector) end
  local st, body, resp = self:call("GET", p)
  if not st then return nil, body end
  if st ~= 200 then return nil, api_error("GET " .. p, st, body, resp) end
  local items = body.items or {}
  for _, it in ipairs(items) do
    it.apiVersion = it.apiVersion or api_version
    it.kind = it.kind or kind
  end
  return kedge.list(items)
end

-- delete(obj [, {uid=, propagation=}]) → true, or true, "gone" when absent;
-- nil, err (a failed uid precondition is a 409: "not the same object").
function Client:delete(a, opts)
  opts = opts or {}
  local m = meta(a)
  local p, err = self:path(a.apiVersion, a.kind, m.namespace, m.name)
  if not p then return nil, err end
  local body = {kind = "DeleteOptions", apiVersion = "v1",
    propagationPolicy = opts.propagation or "Background"}
  if opts.uid then body.preconditions = {uid = opts.uid} end
  local st, resp_body, resp = self:call("DELETE", p, body)
  if not st then return nil, resp_body end
  if st == 404 then return true, "gone" end
  if st == 200 or st == 202 then return true end
  return nil, api_error("DELETE " .. p, st, resp_body, resp), st
end

-- --- preparing objects ----------------------------------------------------------

-- v1.20's server-side apply refuses list entries that omit a key field of
-- the list ("associative list with keys has an element that omits key
-- field \"protocol\""): Service ports and container ports are keyed by port
-- and protocol. kedge fills in protocol: TCP, the value the server itself
-- defaults, so charts that rely on the default apply on old servers too.
local function default_ports(list)
  if type(list) ~= "table" or is_null(list) then return end
  for _, p in ipairs(list) do
    if type(p) == "table" and p.protocol == nil then p.protocol = "TCP" end
  end
end

local function default_pod_spec(spec)
  if type(spec) ~= "table" or is_null(spec) then return end
  for _, field in ipairs({"containers", "initContainers", "ephemeralContainers"}) do
    local cs = spec[field]
    if type(cs) == "table" and not is_null(cs) then
      for _, c in ipairs(cs) do
        if type(c) == "table" then default_ports(c.ports) end
      end
    end
  end
end

local function pod_spec_of(obj)
  local s = obj.spec
  if type(s) ~= "table" or is_null(s) then return nil end
  if obj.kind == "Pod" then return s end
  if obj.kind == "CronJob" then
    local jt = s.jobTemplate
    s = type(jt) == "table" and jt.spec or nil
    if type(s) ~= "table" then return nil end
  end
  local t = s.template
  if type(t) == "table" and not is_null(t) then return t.spec end
  return nil
end

local function prepare(obj, opts, res)
  local o = deep_copy(obj)
  o.metadata = o.metadata or {}
  if res.namespaced then
    if o.metadata.namespace == nil or o.metadata.namespace == "" then
      o.metadata.namespace = opts.namespace
    end
  else
    o.metadata.namespace = nil
  end
  if opts.bundle then
    o.metadata.labels = o.metadata.labels or {}
    o.metadata.labels[M.BUNDLE_LABEL] = opts.bundle
  end
  if o.kind == "Service" and o.apiVersion == "v1" and type(o.spec) == "table" then
    default_ports(o.spec.ports)
  end
  default_pod_spec(pod_spec_of(o))
  return o
end

-- Checks the set before anything is applied: every object names its
-- apiVersion, kind and name, none twice. nil, err on the first problem,
-- named by sources[i] (file and document) when the caller has them.
local function validate(objs, sources)
  local seen = {}
  for i, o in ipairs(objs) do
    local where = sources and sources[i] or ("object " .. i)
    if type(o) ~= "table" then return nil, where .. ": not a mapping" end
    if type(o.apiVersion) ~= "string" or o.apiVersion == "" then
      return nil, where .. ": apiVersion is missing"
    end
    if type(o.kind) ~= "string" or o.kind == "" then return nil, where .. ": kind is missing" end
    local m = meta(o)
    if type(m.name) ~= "string" or m.name == "" then
      return nil, where .. ": metadata.name is missing"
    end
    local k = key_of(ref_of(o))
    if seen[k] then
      return nil, string.format("%s: %s %s appears twice (first at %s)", where, o.kind, m.name, seen[k])
    end
    seen[k] = where
  end
  return true
end

-- --- apply --------------------------------------------------------------------------

local function conflict_message(what, body)
  local parts = {}
  local causes = type(body) == "table" and body.details and body.details.causes or {}
  for _, c in ipairs(causes) do
    parts[#parts + 1] = (c.message or "") .. (c.field and (" (" .. c.field .. ")") or "")
  end
  local detail = #parts > 0 and table.concat(parts, "; ") or status_message(nil, body)
  return string.format("%s: conflict: %s; another field manager owns these fields: "
    .. "change the manifest, or apply with force to take them over", what, detail)
end

-- Server-side apply of one prepared object; returns the server's object.
function Client:apply_one(o, opts)
  local m = o.metadata
  local p, err = self:path(o.apiVersion, o.kind, m.namespace, m.name)
  if not p then return nil, err end
  local q = "?fieldManager=" .. esc(opts.field_manager or self.field_manager)
  if opts.force then q = q .. "&force=true" end
  if opts.dry_run then q = q .. "&dryRun=All" end
  local st, body, resp = self:call("PATCH", p .. q, o, "application/apply-patch+yaml", true)
  if not st then return nil, body end
  local what = describe(ref_of(o))
  if st == 409 then return nil, conflict_message(what, body), st end
  if st ~= 200 and st ~= 201 then
    local msg = api_error("apply " .. what, st, body, resp)
    if msg:find("omits key field", 1, true) then
      msg = msg .. " (this server needs every key field of the list set, e.g. ports' protocol)"
    end
    return nil, msg, st
  end
  return body, st == 201 and "created" or "applied"
end

-- Kinds that CRDs in objs define: "group/Kind" → true.
local function crd_kinds(objs)
  local t = {}
  for _, o in ipairs(objs) do
    if o.kind == "CustomResourceDefinition" and type(o.spec) == "table" and o.spec.names then
      t[(o.spec.group or "") .. "/" .. (o.spec.names.kind or "")] = true
    end
  end
  return t
end

local function sort_objects(objs)
  local idx = {}
  for i, o in ipairs(objs) do idx[i] = {o = o, i = i} end
  table.sort(idx, function(a, b)
    local oa, ob = ORDER[a.o.kind] or #INSTALL_ORDER + 1, ORDER[b.o.kind] or #INSTALL_ORDER + 1
    if oa ~= ob then return oa < ob end
    return a.i < b.i
  end)
  local out = {}
  for i, e in ipairs(idx) do out[i] = e.o end
  return out
end

local sleep = kos.sleep

-- Waits until every CRD in list is Established; nil, err names the last
-- one's conditions.
function Client:_wait_crds(crds, timeout)
  if #crds == 0 then return true end
  local deadline = kos.monotonic() + timeout
  local pending = crds
  while true do
    local still = {}
    for _, o in ipairs(pending) do
      local live, err, st = self:get(o)
      if not live and st ~= 404 then return nil, err end
      local ok = live and M.ready(live)
      if not ok then still[#still + 1] = o end
    end
    if #still == 0 then break end
    if kos.monotonic() >= deadline then
      local names = {}
      for _, o in ipairs(still) do names[#names + 1] = o.metadata.name end
      return nil, "CustomResourceDefinition not Established in time: " .. table.concat(names, ", ")
    end
    pending = still
    sleep(0.2)
  end
  for _, o in ipairs(crds) do self:invalidate(o.spec and o.spec.group) end
  return true
end

-- Resolve with retries for kinds a CRD of this apply just defined (the
-- API server's discovery lags Established by a moment).
function Client:_resolve_new(o, defined, timeout)
  local g = split_api_version(o.apiVersion)
  local deadline = kos.monotonic() + timeout
  while true do
    local res, err = self:resolve(o.apiVersion, o.kind)
    if res or not defined[g .. "/" .. o.kind] then return res, err end
    if kos.monotonic() >= deadline then return nil, err end
    self:invalidate(g)
    sleep(0.2)
  end
end

-- --- inventory ----------------------------------------------------------------------

M.key_of = key_of

-- Objects annotated so are left as they are by drift correction.
M.DRIFT_ANNOTATION = "kedge.io/drift"

local function inventory_name(bundle) return "kedge-inventory-" .. bundle end

local function inventory_path(state_dir, bundle)
  return state_dir .. "/inventory/" .. bundle .. ".json"
end

-- The objects kedge applied for a bundle last time: list of {group, kind,
-- namespace, name, uid, apiVersion}; from the cluster, else the state dir.
function Client:inventory(bundle, state_dir)
  local cm, err, st = self:get("v1", "ConfigMap", M.INVENTORY_NAMESPACE, inventory_name(bundle))
  local text
  self._inv_text = self._inv_text or {}
  if cm then
    text = cm.data and cm.data.objects
    -- what the cluster holds: an unchanged inventory is not written again
    self._inv_text[bundle] = text or ""
  elseif st == 404 then
    if state_dir then
      local f = io.open(inventory_path(state_dir, bundle), "r")
      if f then text = f:read("a"); f:close() end
    end
  else
    return nil, err
  end
  if not text or text == "" then return {} end
  local list, jerr = json.decode(text, {name = "inventory of bundle " .. bundle})
  if not list then return nil, jerr end
  return list
end

-- The bundles kedge keeps an inventory of on this cluster (sorted names),
-- or nil, err.
function Client:bundles()
  local cms, err = self:list("v1", "ConfigMap", {namespace = M.INVENTORY_NAMESPACE,
    selector = "app.kubernetes.io/managed-by=kedge"})
  if not cms then return nil, err end
  local names = {}
  for _, cm in ipairs(cms) do
    local b = type(cm.data) == "table" and cm.data.bundle
    if type(b) == "string" and meta(cm).name == inventory_name(b) then names[#names + 1] = b end
  end
  table.sort(names)
  return names
end

-- Drops a bundle's inventory, once it is empty (its bundle removed).
function Client:forget(bundle, state_dir)
  local ok, err = self:delete({apiVersion = "v1", kind = "ConfigMap",
    metadata = {namespace = M.INVENTORY_NAMESPACE, name = inventory_name(bundle)}})
  if not ok then return nil, err end
  if self._inv_text then self._inv_text[bundle] = nil end
  if state_dir then os.remove(inventory_path(state_dir, bundle)) end
  return true
end

function Client:_save_inventory(bundle, entries, state_dir)
  table.sort(entries, function(a, b) return key_of(a) < key_of(b) end)
  local text = json.encode(kedge.list(entries))
  local held = self._inv_text and self._inv_text[bundle]
  if held == text then
    if state_dir then
      local wok, werr = kos.write_atomic(inventory_path(state_dir, bundle), text .. "\n")
      if not wok then return nil, "saving the inventory: " .. werr end
    end
    return true
  end
  if held == nil then
    local ns = {apiVersion = "v1", kind = "Namespace", metadata = {name = M.INVENTORY_NAMESPACE}}
    local nok, nerr = self:apply_one(ns, {force = true})
    if not nok then return nil, "saving the inventory: " .. nerr end
  end
  local cm = {apiVersion = "v1", kind = "ConfigMap",
    metadata = {name = inventory_name(bundle), namespace = M.INVENTORY_NAMESPACE,
      labels = {[M.BUNDLE_LABEL] = bundle, ["app.kubernetes.io/managed-by"] = "kedge"}},
    data = {bundle = bundle, objects = text}}
  local ok, cerr = self:apply_one(cm, {force = true})
  if not ok then return nil, "saving the inventory: " .. cerr end
  self._inv_text = self._inv_text or {}
  self._inv_text[bundle] = text
  if state_dir then
    local wok, werr = kos.write_atomic(inventory_path(state_dir, bundle), text .. "\n")
    if not wok then return nil, "saving the inventory: " .. werr end
  end
  return true
end

local function entry_of(o, live)
  local g = split_api_version(o.apiVersion)
  local m = meta(live or o)
  return {group = g, apiVersion = o.apiVersion, kind = o.kind, namespace = m.namespace or "",
    name = m.name, uid = m.uid}
end

-- Does a manager other than ours hold applied fields of live?
local function other_appliers(live, ours)
  local names = {}
  local mf = meta(live).managedFields
  if type(mf) ~= "table" or is_null(mf) then return names end
  for _, f in ipairs(mf) do
    if f.operation == "Apply" and f.manager ~= ours then names[#names + 1] = f.manager end
  end
  return names
end

-- Deleting these deletes what others own with them, so prune leaves them.
local NEVER_PRUNED = {
  CustomResourceDefinition = "kedge never prunes CRDs: deleting one deletes every resource of its kind, "
    .. "whoever owns them (delete it by hand when nothing uses it)",
  Namespace = "kedge never prunes Namespaces: deleting one deletes everything in it, "
    .. "whoever owns it (delete it by hand when it is empty)",
}

-- Deletes what old has and the new set does not; returns pruned, skipped
-- lists and errors (entries kept for the next try).
function Client:_prune(old, new_keys, opts, report)
  local keep = {}
  local gone = {}
  for _, e in ipairs(old) do
    if not new_keys[key_of(e)] then gone[#gone + 1] = e end
  end
  -- dependents before what they depend on: Helm's install order reversed
  table.sort(gone, function(a, b)
    local oa, ob = ORDER[a.kind] or #INSTALL_ORDER + 1, ORDER[b.kind] or #INSTALL_ORDER + 1
    if oa ~= ob then return oa > ob end
    return key_of(a) < key_of(b)
  end)
  for _, e in ipairs(gone) do
    local what = describe(e)
    local live, err, st = nil, nil, nil
    local res = self:resolve(e.apiVersion, e.kind)
    if res then live, err, st = self:get(e.apiVersion, e.kind, e.namespace, e.name) end
    if NEVER_PRUNED[e.kind] and live then
      report.skipped[#report.skipped + 1] = {ref = e, reason = NEVER_PRUNED[e.kind]}
      log.warn("not pruning " .. what .. ": " .. NEVER_PRUNED[e.kind])
    elseif not res or st == 404 then
      report.pruned[#report.pruned + 1] = {ref = e, action = "gone"}
    elseif not live then
      report.errors[#report.errors + 1] = what .. ": " .. err
      keep[#keep + 1] = e
    else
      local m = meta(live)
      local labels = type(m.labels) == "table" and m.labels or {}
      local others = other_appliers(live, opts.field_manager or self.field_manager)
      local why
      if e.uid and m.uid ~= e.uid then
        why = "it was deleted and created again by someone else (uid changed)"
      elseif labels[M.BUNDLE_LABEL] ~= opts.bundle then
        why = "it now belongs to bundle " .. tostring(labels[M.BUNDLE_LABEL])
      elseif #others > 0 then
        why = "other managers also apply it: " .. table.concat(others, ", ")
      end
      if why then
        report.skipped[#report.skipped + 1] = {ref = e, reason = why}
        log.warn("not pruning " .. what .. ": " .. why)
      else
        local ok, derr = self:delete({apiVersion = e.apiVersion, kind = e.kind,
          metadata = {namespace = e.namespace, name = e.name}}, {uid = m.uid})
        if ok then
          report.pruned[#report.pruned + 1] = {ref = e, action = "deleted"}
          log.info("pruned " .. what)
        else
          report.errors[#report.errors + 1] = derr
          keep[#keep + 1] = e
        end
      end
    end
  end
  return keep
end

-- apply(objs, opts): server-side apply of a set of objects.
--   opts: namespace (for namespaced objects without one; default the
--   client's), force, dry_run, bundle (labels objects, records the
--   inventory), prune (needs bundle: delete what the bundle's last apply
--   had and this one lacks, after this one applied), wait (seconds:
--   readiness), state_dir (inventory copy on disk), sources (names of
--   where each object came from, for messages), crd_timeout (default 60),
--   progress (function(action, ref) called after each object applies),
--   skip (a set of key_of(ref): objects kept in the inventory but not
--   applied, for drift left alone).
-- Returns {applied = {{ref=, action=, uid=}}, pruned=, skipped=,
--   requests=} or nil, err, partial result. err.kind-like prefixes:
--   "invalid:" nothing was applied; "timeout:" applied but not ready.
function Client:apply(objs, opts)
  opts = opts or {}
  assert(type(objs) == "table", "apply: objects must be a list")
  if opts.prune then assert(opts.bundle, "apply: prune needs a bundle name") end
  local report = {applied = {}, pruned = {}, skipped = {}, errors = {}}
  local start_requests = self._requests
  local ok, verr = validate(objs, opts.sources)
  if not ok then return nil, "invalid: " .. verr, report end
  local aopts = {namespace = opts.namespace or self.namespace, bundle = opts.bundle,
    force = opts.force, dry_run = opts.dry_run, field_manager = opts.field_manager}

  -- Every kind must be known to the server or defined by a CRD of this set.
  local defined = crd_kinds(objs)
  local pending = {}
  for i, o in ipairs(objs) do
    local res, err, why = self:resolve(o.apiVersion, o.kind)
    local g = split_api_version(o.apiVersion)
    if not res and not defined[g .. "/" .. o.kind] then
      if why == errors.KIND.NOT_FOUND then
        return nil, "invalid: " .. (opts.sources and opts.sources[i] or describe(ref_of(o)))
          .. ": " .. err, report
      end
      return nil, err, report
    end
    -- a custom resource of a new CRD: namespaced unless known otherwise
    pending[i] = entry_of(prepare(o, aopts, res or {namespaced = true}))
  end

  local old
  if opts.bundle and not opts.dry_run then
    local err
    old, err = self:inventory(opts.bundle, opts.state_dir)
    if not old then return nil, err, report end
    -- Objects about to be created go into the inventory first (without a
    -- uid), so that a crash half way cannot leave them unowned.
    local known, grown = {}, false
    for _, e in ipairs(old) do known[key_of(e)] = true end
    local union = {}
    for _, e in ipairs(old) do union[#union + 1] = e end
    for _, e in ipairs(pending) do
      if not known[key_of(e)] then
        known[key_of(e)] = true
        union[#union + 1] = e
        grown = true
      end
    end
    if grown then
      local iok, ierr = self:_save_inventory(opts.bundle, union, opts.state_dir)
      if not iok then return nil, ierr, report end
      old = union
    end
  end

  local first, rest, crds = {}, {}, {}
  for _, o in ipairs(sort_objects(objs)) do
    if o.kind == "Namespace" or o.kind == "CustomResourceDefinition" then
      first[#first + 1] = o
      if o.kind == "CustomResourceDefinition" then crds[#crds + 1] = o end
    else
      rest[#rest + 1] = o
    end
  end

  local entries = {}
  local function finish_inventory(keep_old)
    if not opts.bundle or opts.dry_run then return true end
    local all, seen = {}, {}
    for _, e in ipairs(entries) do all[#all + 1] = e; seen[key_of(e)] = true end
    for _, e in ipairs(keep_old or {}) do
      if not seen[key_of(e)] then all[#all + 1] = e; seen[key_of(e)] = true end
    end
    return self:_save_inventory(opts.bundle, all, opts.state_dir)
  end

  local function apply_list(list)
    for _, o in ipairs(list) do
      local res, rerr = self:_resolve_new(o, defined, opts.crd_timeout or 60)
      if not res then return nil, rerr end
      local prepared = prepare(o, aopts, res)
      local ref = ref_of(prepared)
      if opts.skip and opts.skip[key_of(ref)] then
        -- left as someone else changed it, and still the bundle's
        entries[#entries + 1] = entry_of(prepared)
        goto next
      end
      local live, action, st = self:apply_one(prepared, aopts)
      if not live then return nil, action, st end
      report.applied[#report.applied + 1] = {ref = ref, action = action,
        uid = meta(live).uid, object = opts.keep_objects and live or nil}
      entries[#entries + 1] = entry_of(prepared, live)
      if opts.progress then opts.progress(action, ref) end
      ::next::
    end
    return true
  end

  local aok, aerr = apply_list(first)
  if aok and not opts.dry_run then aok, aerr = self:_wait_crds(crds, opts.crd_timeout or 60) end
  if aok then aok, aerr = apply_list(rest) end
  if not aok then
    -- keep everything kedge owned before in the inventory: nothing may
    -- become unowned because an apply stopped half way
    local _, ierr = finish_inventory(old)
    if ierr then aerr = aerr .. "; " .. ierr end
    report.requests = self._requests - start_requests
    return nil, aerr, report
  end

  local keep = {}
  if old then
    if opts.prune then
      local new_keys = {}
      for _, e in ipairs(entries) do new_keys[key_of(e)] = true end
      keep = self:_prune(old, new_keys, aopts, report)
    else
      keep = old
    end
  end
  local iok, ierr = finish_inventory(keep)
  report.requests = self._requests - start_requests
  if not iok then return nil, ierr, report end
  if #report.errors > 0 then
    return nil, "prune: " .. table.concat(report.errors, "; "), report
  end
  if opts.wait and not opts.dry_run then
    local wok, werr = self:wait(objs, opts.wait, aopts)
    report.requests = self._requests - start_requests
    if not wok then return nil, "timeout: " .. werr, report end
  end
  return report
end

-- --- readiness ----------------------------------------------------------------------

local function conditions(obj)
  local st = obj.status
  if type(st) ~= "table" or is_null(st) or type(st.conditions) ~= "table" then return {} end
  local t = {}
  for _, c in ipairs(st.conditions) do
    if type(c) == "table" and c.type then t[c.type] = c end
  end
  return t
end

local function num(v, def)
  if type(v) == "number" then return v end
  return def
end

local function generation_seen(obj)
  local st = type(obj.status) == "table" and obj.status or {}
  local gen = num(meta(obj).generation, 0)
  local seen = num(st.observedGeneration, nil)
  if seen and seen < gen then
    return false, string.format("the controller has not seen generation %d yet (observed %d)", gen, seen)
  end
  if not seen and gen > 0 and (obj.kind == "Deployment" or obj.kind == "StatefulSet"
      or obj.kind == "DaemonSet" or obj.kind == "ReplicaSet") then
    return false, "no controller has reported status yet"
  end
  return true
end

local function pod_reason(pod)
  local st = type(pod.status) == "table" and pod.status or {}
  for _, field in ipairs({"initContainerStatuses", "containerStatuses"}) do
    for _, cs in ipairs(type(st[field]) == "table" and st[field] or {}) do
      local w = cs.state and cs.state.waiting
      if type(w) == "table" and w.reason then
        return string.format("container %s is waiting: %s%s", cs.name, w.reason,
          w.message and (" (" .. w.message .. ")") or "")
      end
      local t = cs.state and cs.state.terminated
      if type(t) == "table" and t.reason and (t.exitCode or 0) ~= 0 then
        return string.format("container %s terminated: %s (exit %d)", cs.name, t.reason, t.exitCode)
      end
    end
  end
  local c = conditions(pod)
  if c.PodScheduled and c.PodScheduled.status == "False" then
    return "not scheduled: " .. (c.PodScheduled.message or c.PodScheduled.reason or "")
  end
  return "phase " .. tostring(st.phase or "Pending")
end

local function replicas_rule(obj, want_field)
  local ok, why = generation_seen(obj)
  if not ok then return false, why end
  local spec = type(obj.spec) == "table" and obj.spec or {}
  local st = type(obj.status) == "table" and obj.status or {}
  local want = num(spec.replicas, 1)
  local updated = num(st.updatedReplicas, 0)
  local ready = num(st.readyReplicas, 0)
  local avail = num(st.availableReplicas, 0)
  if want_field == "Deployment" then
    local p = conditions(obj).Progressing
    if p and p.reason == "ProgressDeadlineExceeded" then
      return false, "rollout failed: " .. (p.message or "progress deadline exceeded"), "failed"
    end
    if updated < want then return false, string.format("%d of %d replicas updated", updated, want) end
    if num(st.replicas, 0) > updated then
      return false, string.format("%d old replicas still running", num(st.replicas, 0) - updated)
    end
    if avail < want then return false, string.format("%d of %d replicas available", avail, want) end
    return true, "ready"
  end
  if want_field == "StatefulSet" then
    if ready < want then return false, string.format("%d of %d replicas ready", ready, want) end
    local strategy = spec.updateStrategy and spec.updateStrategy.type or "RollingUpdate"
    if strategy == "RollingUpdate" and st.updateRevision and st.currentRevision ~= st.updateRevision then
      return false, string.format("%d of %d replicas updated", updated, want)
    end
    return true, "ready"
  end
  -- ReplicaSet
  if ready < want then return false, string.format("%d of %d replicas ready", ready, want) end
  if avail < want then return false, string.format("%d of %d replicas available", avail, want) end
  return true, "ready"
end

-- ready(obj) → true|false, reason; "failed" as third result when waiting
-- longer cannot help (a failed Job, an exceeded progress deadline).
function M.ready(obj)
  local kind = obj.kind
  local st = type(obj.status) == "table" and not is_null(obj.status) and obj.status or {}
  local c = conditions(obj)
  if kind == "Deployment" or kind == "StatefulSet" or kind == "ReplicaSet" then
    return replicas_rule(obj, kind)
  elseif kind == "DaemonSet" then
    local ok, why = generation_seen(obj)
    if not ok then return false, why end
    local want = num(st.desiredNumberScheduled, 0)
    local updated, ready, avail = num(st.updatedNumberScheduled, 0), num(st.numberReady, 0),
      num(st.numberAvailable, 0)
    if updated < want then return false, string.format("%d of %d pods updated", updated, want) end
    if ready < want then return false, string.format("%d of %d pods ready", ready, want) end
    if avail < want then return false, string.format("%d of %d pods available", avail, want) end
    return true, "ready"
  elseif kind == "Job" then
    if c.Failed and c.Failed.status == "True" then
      return false, "failed: " .. (c.Failed.message or c.Failed.reason or ""), "failed"
    end
    if c.Complete and c.Complete.status == "True" then return true, "complete" end
    return false, string.format("not complete (%d active, %d succeeded)", num(st.active, 0), num(st.succeeded, 0))
  elseif kind == "Pod" then
    if st.phase == "Succeeded" then return true, "succeeded" end
    if st.phase == "Failed" then return false, "failed: " .. pod_reason(obj), "failed" end
    if st.phase == "Running" and c.Ready and c.Ready.status == "True" then return true, "ready" end
    return false, pod_reason(obj)
  elseif kind == "PersistentVolumeClaim" then
    if st.phase == "Bound" then return true, "bound" end
    return false, "phase " .. tostring(st.phase or "Pending") .. ", not Bound"
  elseif kind == "Service" then
    local spec = type(obj.spec) == "table" and obj.spec or {}
    if spec.type ~= "LoadBalancer" then return true, "ready" end
    local lb = st.loadBalancer
    if type(lb) == "table" and type(lb.ingress) == "table" and #lb.ingress > 0 then
      return true, "ready"
    end
    return false, "waiting for a load balancer address"
  elseif kind == "CustomResourceDefinition" then
    if c.Established and c.Established.status == "True" then return true, "established" end
    if c.NamesAccepted and c.NamesAccepted.status == "False" then
      return false, "names not accepted: " .. (c.NamesAccepted.message or ""), "failed"
    end
    return false, "not Established yet"
  end
  -- any other kind: kstatus's generic rules
  local ok, why = generation_seen(obj)
  if not ok then return false, why end
  if c.Ready then
    if c.Ready.status == "True" then return true, "ready" end
    return false, "Ready is " .. tostring(c.Ready.status) .. (c.Ready.reason and (": " .. c.Ready.reason) or "")
      .. (c.Ready.message and (" (" .. c.Ready.message .. ")") or "")
  end
  if c.Stalled and c.Stalled.status == "True" then
    return false, "stalled: " .. (c.Stalled.message or c.Stalled.reason or ""), "failed"
  end
  if c.Reconciling and c.Reconciling.status == "True" then
    return false, "reconciling: " .. (c.Reconciling.message or c.Reconciling.reason or "")
  end
  return true, "ready"
end

-- The repo's health script for obj's kind, when there is one and it gives
-- a status; else the rules above.
function Client:ready(obj)
  local res = self.health and self.health:check(obj)
  if not res then return M.ready(obj) end
  local ok, why, fatal = require("kedge.health").ready(res)
  return ok, why, fatal, res
end

-- For a workload that is not ready, the first Pod problem among its Pods
-- (matchLabels only), so a timeout can say "ImagePullBackOff".
function Client:_pod_hint(live)
  local spec = type(live.spec) == "table" and live.spec or {}
  local sel = spec.selector
  local labels = type(sel) == "table" and (sel.matchLabels or (live.kind == "Service" and sel)) or nil
  if type(labels) ~= "table" or is_null(labels) then return nil end
  local parts = {}
  for k, v in pairs(labels) do parts[#parts + 1] = k .. "=" .. tostring(v) end
  if #parts == 0 then return nil end
  table.sort(parts)
  local pods = self:list("v1", "Pod", {namespace = meta(live).namespace,
    selector = table.concat(parts, ",")})
  if not pods then return nil end
  for _, p in ipairs(pods) do
    local ok = M.ready(p)
    if not ok then return "pod " .. meta(p).name .. ": " .. pod_reason(p) end
  end
  return nil
end

local WORKLOADS = {Deployment = true, StatefulSet = true, DaemonSet = true, ReplicaSet = true, Job = true}

-- wait(objs, timeout [, {namespace=}]) → true, or nil, err listing each
-- object not ready and why.
function Client:wait(objs, timeout, opts)
  opts = opts or {}
  local ns = opts.namespace or self.namespace
  local deadline = kos.monotonic() + (timeout or 300)
  local pending = {}
  for _, o in ipairs(objs) do
    local r = ref_of(o)
    local res = self:resolve(o.apiVersion, o.kind)
    if res and res.namespaced and r.namespace == "" then r.namespace = ns end
    if res and not res.namespaced then r.namespace = "" end
    pending[#pending + 1] = {o = o, ref = r}
  end
  log.info("waiting until the objects are ready", {objects = #pending, timeout = timeout or 300})
  local pause = 0.2
  while true do
    local still = {}
    local failed = {}
    for _, p in ipairs(pending) do
      local live, err, st = self:get(p.o.apiVersion, p.o.kind, p.ref.namespace, p.ref.name)
      if live then
        local ok, why, fatal, res = self:ready(live)
        if res and self.on_health then
          local labels = meta(live).labels
          self.on_health(live, res, type(labels) == "table" and labels[M.BUNDLE_LABEL] or nil)
        end
        if not ok then
          p.why, p.live = why, live
          still[#still + 1] = p
          if fatal then failed[#failed + 1] = p end
        end
      else
        p.why = st == 404 and "does not exist" or err
        still[#still + 1] = p
      end
    end
    if #still == 0 then return true end
    local now = kos.monotonic()
    if #failed > 0 or now >= deadline then
      local lines = {}
      for _, p in ipairs(still) do
        local hint = p.live and WORKLOADS[p.o.kind] and self:_pod_hint(p.live)
        lines[#lines + 1] = describe(p.ref) .. ": " .. p.why .. (hint and ("; " .. hint) or "")
      end
      local head = #failed > 0 and "failed" or string.format("not ready after %gs", timeout or 300)
      return nil, string.format("%d object(s) %s:\n  %s", #still, head, table.concat(lines, "\n  "))
    end
    pending = still
    sleep(math.min(pause, math.max(deadline - now, 0.01)))
    pause = math.min(pause * 1.5, 2)
  end
end

-- --- plan --------------------------------------------------------------------------

local SERVER_META = {managedFields = true, resourceVersion = true, generation = true,
  creationTimestamp = true, uid = true, selfLink = true}

local function normalize(obj)
  local o = deep_copy(obj)
  o.status = nil
  if type(o.metadata) == "table" then
    for k in pairs(SERVER_META) do o.metadata[k] = nil end
    local ann = o.metadata.annotations
    if type(ann) == "table" then
      ann["kubectl.kubernetes.io/last-applied-configuration"] = nil
      ann["deployment.kubernetes.io/revision"] = nil
      if next(ann) == nil then o.metadata.annotations = nil end
    end
  end
  return o
end

local function scalar(v)
  if is_null(v) then return "null" end
  return json.encode(v)
end

-- path → scalar text for every leaf (empty tables are leaves)
local function flatten(v, prefix, out)
  if type(v) == "table" and not is_null(v) and next(v) ~= nil then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b)
      if type(a) == type(b) then return a < b end
      return type(a) == "number"
    end)
    for _, k in ipairs(keys) do
      local p = type(k) == "number" and string.format("%s[%d]", prefix, k - 1)
        or (prefix == "" and k or prefix .. "." .. k)
      flatten(v[k], p, out)
    end
  elseif prefix ~= "" then
    -- an empty or missing object (one to create) has no leaves
    out[#out + 1] = prefix
    out[prefix] = scalar(v)
  end
  return out
end

-- Strings decrypted from the config repo (kedge.secrets registers them):
-- a diff shows that a value holding one changed, never the value.
local known_secrets = {}

function M.secret(s)
  if type(s) == "string" and #s >= 4 then known_secrets[s] = true end
end

local function holds_secret(v)
  if type(v) ~= "string" or next(known_secrets) == nil then return false end
  for s in pairs(known_secrets) do
    if v:find(s, 1, true) then return true end
  end
  return false
end

-- A Secret's values never reach the output, only that they change; nor
-- does any value holding a decrypted secret.
local function secret_path(obj, p, a, b)
  return (obj.kind == "Secret" and (p:match("^data%.") or p:match("^stringData%.")))
    or holds_secret(a) or holds_secret(b)
end

-- A readable diff of two objects (normalized): "~ path: old → new",
-- "+ path: value", "- path: value"; a Secret's data and stringData values
-- are hidden.
function M.diff(live, want)
  local a, b = flatten(normalize(live), "", {}), flatten(normalize(want), "", {})
  local lines = {}
  local seen = {}
  local function show(p, v) return secret_path(want, p, v) and "(secret)" or v end
  for _, p in ipairs(b) do
    seen[p] = true
    if a[p] == nil then
      lines[#lines + 1] = "+ " .. p .. ": " .. show(p, b[p])
    elseif a[p] ~= b[p] then
      lines[#lines + 1] = "~ " .. p .. ": " .. (secret_path(want, p, a[p], b[p]) and "(secret changed)"
        or a[p] .. " → " .. b[p])
    end
  end
  for _, p in ipairs(a) do
    if not seen[p] then lines[#lines + 1] = "- " .. p .. ": " .. show(p, a[p]) end
  end
  return lines
end

-- plan(objs, opts) → {changes = {{ref=, action="create"|"update"|
-- "unchanged", diff={lines}}}, prune = {refs}} or nil, err. Uses
-- server-side apply with dryRun=All, so the server's defaults, admission
-- and conflicts are those a real apply would meet; the diff leaves out
-- managedFields, status and server-set metadata.
function Client:plan(objs, opts)
  opts = opts or {}
  local ok, verr = validate(objs, opts.sources)
  if not ok then return nil, "invalid: " .. verr end
  local aopts = {namespace = opts.namespace or self.namespace, bundle = opts.bundle,
    force = opts.force, dry_run = true, field_manager = opts.field_manager}
  local defined = crd_kinds(objs)
  local changes = {}
  local new_keys = {}
  local new_namespaces = {} -- created by this set: a dry run inside them fails
  for _, o in ipairs(sort_objects(objs)) do
    local res, rerr = self:resolve(o.apiVersion, o.kind)
    local g = split_api_version(o.apiVersion)
    local ref = ref_of(o)
    if not res then
      if not defined[g .. "/" .. o.kind] then return nil, "invalid: " .. describe(ref) .. ": " .. rerr end
      -- its CRD is new too: the server cannot dry-run it yet
      if ref.namespace == "" then ref.namespace = aopts.namespace end
      new_keys[key_of(ref)] = true
      changes[#changes + 1] = {ref = ref, action = "create", diff = M.diff({}, o)}
    else
      local prepared = prepare(o, aopts, res)
      ref = ref_of(prepared)
      new_keys[key_of(ref)] = true
      local live, gerr
      if not (res.namespaced and new_namespaces[ref.namespace]) then
        local gst
        live, gerr, gst = self:get(prepared)
        if not live and gst ~= 404 then return nil, gerr end
      end
      if not live and res.namespaced and new_namespaces[ref.namespace] then
        changes[#changes + 1] = {ref = ref, action = "create", diff = M.diff({}, prepared)}
      else
        local after, aerr = self:apply_one(prepared, aopts)
        if not after then return nil, aerr end
        if not live then
          if o.kind == "Namespace" then new_namespaces[ref.name] = true end
          changes[#changes + 1] = {ref = ref, action = "create", diff = M.diff({}, after)}
        else
          local d = M.diff(live, after)
          local ann = meta(live).annotations
          changes[#changes + 1] = {ref = ref, action = #d > 0 and "update" or "unchanged", diff = d,
            drift_ignored = type(ann) == "table" and ann[M.DRIFT_ANNOTATION] == "ignore" or nil}
        end
      end
    end
  end
  local prune = {}
  if opts.bundle and opts.prune then
    local old, ierr = self:inventory(opts.bundle, opts.state_dir)
    if not old then return nil, ierr end
    for _, e in ipairs(old) do
      if not new_keys[key_of(e)] then prune[#prune + 1] = e end
    end
  end
  return {changes = changes, prune = prune}
end

return M

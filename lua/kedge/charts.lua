-- kedge.charts: charts that are not in the config repo. A bundle's chart
-- from a Helm HTTP repository or an OCI registry, and the dependencies a
-- chart's Chart.yaml lists but its charts/ lacks (as `helm dependency
-- build` fetches them, Chart.lock's versions first), all through one
-- content-addressed cache in the state directory:
--
--   STATE/cache/charts/sha256/<hex>.tgz   every archive, by its sha256
--   STATE/cache/charts/index.json         {entries = {source → {digest=, version=}}}
--
-- A fetch asks the network first (a range may have moved on) and keeps
-- what it verified; when the network fails, the cache answers, and what
-- it lacks is named. Nothing unverified reaches the cache: an archive is
-- checked, then written to a temporary file and renamed.
--
--   local R = charts.new{state_dir = "/var/lib/kedge", registry = {config=, ca_file=, insecure=}}
--   local tgz, info = R:fetch({kind = "repo", repo = URL, name = "web", version = "1.2.x"})
--   local ok, err = R:dependencies(c)   -- a loaded kedge.chart
local chartrepo = require "kedge.chartrepo"
local digest = require "kedge.digest"
local json = require "kedge.json"
local kos = require "kedge.os"
local limits = require "kedge.limits"
local log = require "kedge.log"
local oci = require "kedge.oci"

local M = {}

M.CACHE_DIR = "cache/charts"

local R = {}
R.__index = R

-- opts: state_dir (nil: nothing is cached, fetches stay in memory),
-- registry = {config = auth file, ca_file =, insecure = {HOST[:PORT]}}.
function M.new(opts)
  opts = opts or {}
  return setmetatable({opts = opts, reg = opts.registry or {}, memo = {},
    dir = opts.state_dir and (opts.state_dir .. "/" .. M.CACHE_DIR)}, R)
end

-- How a spec reads in messages: "chart web 1.2.x from https://…".
function M.describe(spec)
  if spec.kind == "oci" then
    return string.format("chart %s %s", spec.ref, spec.version or "")
  end
  return string.format("chart %s %s from %s", spec.name, spec.version or "(latest)", spec.repo)
end

local function source_key(spec)
  if spec.kind == "oci" then return spec.ref .. " " .. (spec.version or "") end
  return spec.repo:gsub("/+$", "") .. " " .. spec.name .. " " .. (spec.version or "")
end

function R:client()
  if not self.cl then
    local c, err = oci.client{config = self.reg.config, ca_file = self.reg.ca_file,
      insecure = self.reg.insecure}
    if not c then return nil, err end
    self.cl = c
  end
  return self.cl
end

------------------------------------------------------------------------
-- the cache

function R:blob_path(hex) return self.dir .. "/sha256/" .. hex .. ".tgz" end

-- The cached archive of a sha256, checked again (a disk may rot), or nil.
function R:cached(hex)
  if not self.dir or not hex then return nil end
  local b = kos.read_file(self:blob_path(hex), limits.chart_bytes)
  if b and digest.sha256(b) == hex then return b end
  return nil
end

function R:read_index()
  local text = self.dir and kos.read_file(self.dir .. "/index.json", 16 << 20)
  local doc = text and json.decode(text)
  if type(doc) ~= "table" or type(doc.entries) ~= "table" then doc = {entries = {}} end
  return doc
end

-- Keeps a verified archive and what source it answered.
function R:store(spec, hex, bytes, version)
  if not self.dir then return true end
  local ok, err = kos.mkdir(self.dir .. "/sha256")
  if ok and not self:cached(hex) then ok, err = kos.write_atomic(self:blob_path(hex), bytes, 420) end
  if not ok then return nil, "the chart cache: " .. tostring(err) end
  local idx = self:read_index()
  idx.entries[source_key(spec)] = {digest = "sha256:" .. hex, version = version,
    fetched = os.date("!%Y-%m-%dT%H:%M:%SZ")}
  ok, err = kos.write_atomic(self.dir .. "/index.json", json.encode(idx, {indent = 2}) .. "\n", 420)
  if not ok then return nil, "the chart cache: " .. tostring(err) end
  return true
end

------------------------------------------------------------------------
-- fetching

-- From the network: bytes, hex, version, or nil, err, kind.
function R:pull(spec)
  local c, err = self:client()
  if not c then return nil, err end
  local max = limits.chart_bytes
  if spec.kind == "oci" then
    local tgz, d, v = c:pull_chart(spec.ref, spec.version or "*", max,
      function(ld) return self:cached(ld:match("^sha256:(%x+)$")) end)
    if not tgz then return nil, d, v end
    return tgz, d:gsub("^sha256:", ""), v
  end
  local index, ierr, ikind = chartrepo.index(c, spec.repo)
  if not index then return nil, ierr, ikind end
  local e, perr = chartrepo.pick(index, spec.repo, spec.name, spec.version)
  if not e then return nil, perr end
  -- a known digest already in the cache needs no download
  local want = type(e.digest) == "string" and e.digest:gsub("^sha256:", ""):lower() or nil
  local have = want and self:cached(want)
  if have then return have, want, e.version end
  local tgz, hex, kind = chartrepo.download(c, spec.repo, e, max)
  if not tgz then return nil, hex, kind end
  if not want or want == "" then
    log.warn("the chart repository gives no digest: the archive is not checked",
      {chart = spec.name, version = e.version, repo = spec.repo})
  end
  return tgz, hex, e.version
end

-- A chart's archive. Returns bytes and {digest=, version=, from = "network"
-- | "cache"}, or nil, err.
function R:fetch(spec)
  local k = source_key(spec)
  if self.memo[k] then return self.memo[k].bytes, self.memo[k].info end
  local tgz, hex, v = self:pull(spec)
  local info
  if tgz then
    local ok, err = self:store(spec, hex, tgz, v)
    if not ok then return nil, err end
    info = {digest = "sha256:" .. hex, version = v, from = "network"}
  elseif v == "unreachable" then
    local e = self:read_index().entries[k]
    local d = type(e) == "table" and type(e.digest) == "string" and e.digest:gsub("^sha256:", "")
    tgz = d and self:cached(d)
    if not tgz then
      return nil, string.format("%s is not in the cache and the repository is unreachable: %s",
        M.describe(spec), hex)
    end
    log.warn("the chart's repository is unreachable: using the cached archive",
      {chart = M.describe(spec), version = e.version, digest = e.digest})
    info = {digest = e.digest, version = e.version, from = "cache"}
  else
    return nil, M.describe(spec) .. ": " .. tostring(hex)
  end
  self.memo[k] = {bytes = tgz, info = info}
  return tgz, info
end

------------------------------------------------------------------------
-- dependencies (helm dependency build)

-- Go's encoding/json of a []*chart.Dependency: Helm's field order, its
-- omitempty fields, HTML characters escaped.
local function go_deps(list)
  local function str(v)
    if type(v) == "number" then v = tostring(v) end
    return json.encode(type(v) == "string" and v or "", {escape_html = true})
  end
  local out = {}
  for _, d in ipairs(type(list) == "table" and list or {}) do
    local f = {'"name":' .. str(d.name)}
    if d.version ~= nil and d.version ~= "" then f[#f + 1] = '"version":' .. str(d.version) end
    f[#f + 1] = '"repository":' .. str(d.repository)
    if type(d.condition) == "string" and d.condition ~= "" then f[#f + 1] = '"condition":' .. str(d.condition) end
    if type(d.tags) == "table" and #d.tags > 0 then
      f[#f + 1] = '"tags":' .. json.encode(d.tags, {escape_html = true})
    end
    if d.enabled == true then f[#f + 1] = '"enabled":true' end
    if type(d["import-values"]) == "table" and #d["import-values"] > 0 then
      f[#f + 1] = '"import-values":' .. json.encode(d["import-values"], {escape_html = true, sort_keys = true})
    end
    if type(d.alias) == "string" and d.alias ~= "" then f[#f + 1] = '"alias":' .. str(d.alias) end
    out[#out + 1] = "{" .. table.concat(f, ",") .. "}"
  end
  return "[" .. table.concat(out, ",") .. "]"
end

-- Helm's resolver.HashReq: the digest Chart.lock carries of Chart.yaml's
-- dependencies and the lock's own.
function M.lock_digest(req, lock)
  return "sha256:" .. digest.sha256("[" .. go_deps(req) .. "," .. go_deps(lock) .. "]")
end

-- The spec a dependency's repository and version make.
local function dep_spec(d, version)
  local repo = type(d.repository) == "string" and d.repository or ""
  if repo:match("^oci://") then
    return {kind = "oci", ref = repo:gsub("/+$", "") .. "/" .. d.name, version = version}
  elseif repo:match("^https?://") then
    return {kind = "repo", repo = repo, name = d.name, version = version}
  end
  return nil, repo == "" and "it names no repository: vendor it in charts/"
    or string.format("repository %q is not fetched (only https://, http:// and oci://): vendor it in charts/", repo)
end

-- Fetches the dependencies the loaded chart c lacks in charts/ and adds
-- them to it. Returns true or nil, err.
function R:dependencies(c)
  local info = c:info()
  local deps = type(info.meta.dependencies) == "table" and info.meta.dependencies or {}
  local have = {}
  for _, n in ipairs(info.subcharts) do have[n] = true end
  local missing = {}
  for _, d in ipairs(deps) do
    if type(d) == "table" and type(d.name) == "string" and not have[d.name] then missing[#missing + 1] = d end
  end
  if #missing == 0 then return true end
  local pinned = {}
  local lock = info.lock
  if lock and type(lock.dependencies) == "table" then
    if lock.digest ~= M.lock_digest(deps, lock.dependencies) then
      return nil, "the lock file (Chart.lock) is out of sync with the dependencies file (Chart.yaml): " ..
        "run helm dependency update on the chart"
    end
    for _, l in ipairs(lock.dependencies) do
      if type(l) == "table" and type(l.name) == "string" then pinned[l.name] = l end
    end
  end
  for _, d in ipairs(missing) do
    local l = pinned[d.name]
    local version = l and l.version or d.version
    local spec, serr = dep_spec(l and {name = d.name, repository = l.repository} or d,
      version ~= nil and tostring(version) or nil)
    if not spec then return nil, string.format("dependency %s: %s", d.name, serr) end
    local tgz, ferr = self:fetch(spec)
    if not tgz then return nil, "dependency " .. d.name .. ": " .. ferr end
    local ok, aerr = c:add_subchart(tgz, d.name .. ".tgz")
    if not ok then return nil, "dependency " .. d.name .. ": " .. aerr end
  end
  return true
end

return M

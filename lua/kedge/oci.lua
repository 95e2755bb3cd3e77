-- kedge.oci: the client side of registries and chart repositories. The OCI
-- distribution API (manifests, blobs, tags), Helm's OCI layout of charts,
-- and the HTTP both share: credentials from an auth.json-format file,
-- basic auth and the registry token flow, redirects, plain HTTP only for
-- 127.0.0.0/8 or hosts named insecure. kedge.chartrepo (Helm HTTP
-- repositories) and kedge.images (container images) use it.
--
--   local c = oci.client{config = FILE, ca_file = FILE, insecure = {"host:5000"}}
--   local tgz, digest = c:pull_chart("oci://127.0.0.1:5000/charts/web", "1.2.0")
--   local r = c:get("https://charts.example.org/index.yaml")
--
-- Credentials never show: passwords, the base64 pairs and tokens are
-- registered with the logger and the report writer as they are read, and
-- no message names more than the user.
local core = require "kedge.core"
local digest = require "kedge.digest"
local http = require "kedge.http"
local json = require "kedge.json"
local kos = require "kedge.os"
local semver = require "kedge.semver"

local M = {}

M.HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
M.HELM_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
M.MANIFEST_TYPES = {"application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json"}
M.INDEX_TYPES = {"application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json"}
-- what an image's tag may point at: an index (many platforms) or one manifest
M.IMAGE_TYPES = {M.INDEX_TYPES[1], M.INDEX_TYPES[2], M.MANIFEST_TYPES[1], M.MANIFEST_TYPES[2]}
M.MAX_MANIFEST_BYTES = require("kedge.limits").image_manifest_bytes
M.MAX_REDIRECTS = 5
M.AUTH_FILE_ENV = "REGISTRY_AUTH_FILE"

local function hide(s)
  if type(s) ~= "string" or #s < 4 then return end
  core.log_secret(s)
  require("kedge.report").secret(s)
end

------------------------------------------------------------------------
-- credentials

-- The auth file: the path given, else $REGISTRY_AUTH_FILE, else
-- ~/.docker/config.json. Returns {file=, auths = {host = {user=, pass=,
-- basic=}}} (a missing default file is no credentials), or nil, err.
function M.auth_file(path)
  local explicit = path ~= nil
  path = path or os.getenv(M.AUTH_FILE_ENV)
  explicit = explicit or path ~= nil
  if not path then
    local home = os.getenv("HOME")
    path = home and (home .. "/.docker/config.json")
  end
  local out = {file = path, auths = {}}
  if not path then return out end
  local text, err = kos.read_file(path, 1 << 20)
  if not text then
    if not explicit and not kos.stat(path) then return out end
    return nil, "registry credentials " .. path .. ": " .. tostring(err)
  end
  local doc, jerr = json.decode(text, {name = path})
  if type(doc) ~= "table" then return nil, "registry credentials " .. tostring(jerr or path .. ": not a JSON object") end
  for host, e in pairs(type(doc.auths) == "table" and doc.auths or {}) do
    if type(e) == "table" and type(e.auth) == "string" and e.auth ~= "" then
      hide(e.auth)
      local pair = digest.base64_decode(e.auth)
      local user, pass = (pair or ""):match("^([^:]*):(.*)$")
      if not user then
        return nil, string.format("registry credentials %s: the auth of %s is not base64 of user:password", path, host)
      end
      hide(pass)
      -- "https://index.docker.io/v1/" and "host:port/path" keys name a host too
      local h = host:gsub("^%a+://", ""):gsub("/.*$", "")
      out.auths[h] = {user = user, basic = e.auth:gsub("%s", "")}
    end
  end
  return out
end

------------------------------------------------------------------------
-- URLs and transport

-- "https://host:port/path?q" → scheme, host (with port), path.
local function split_url(url)
  local scheme, host, path = url:match("^(%a+)://([^/?#]+)([^#]*)")
  if not scheme then return nil end
  if path == "" then path = "/" end
  return scheme:lower(), host, path
end
M.split_url = split_url

local function hostname(host) return (host:match("^%[(.-)%]") or host:gsub(":%d+$", "")) end

-- Whether plain HTTP may go to host: 127.0.0.0/8, as Docker allows, or a
-- host (host:port) the operator named insecure.
function M.plain_http_ok(host, insecure)
  local h = hostname(host)
  local a = h:match("^127%.(%d+)%.(%d+)%.(%d+)$")
  if a then return true end
  for _, x in ipairs(insecure or {}) do
    if x == host or x == h then return true end
  end
  return false
end

-- Resolves a reference (a Location header, an index entry's URL) against
-- the URL it came from.
function M.resolve_url(base, ref)
  if ref:match("^%a[%w+.-]*://") then return ref end
  local scheme, host, path = split_url(base)
  if ref:sub(1, 2) == "//" then return scheme .. ":" .. ref end
  if ref:sub(1, 1) == "/" then return scheme .. "://" .. host .. ref end
  local dir = path:gsub("[?#].*$", ""):gsub("[^/]*$", "")
  return scheme .. "://" .. host .. dir .. ref
end

------------------------------------------------------------------------
-- the client

local Client = {}
Client.__index = Client

-- opts: config (auth file path, as auth_file), ca_file, insecure (list of
-- HOST[:PORT] allowed plain HTTP), timeout (seconds per request, default
-- 30), auths (an auth_file result instead of config).
function M.client(opts)
  opts = opts or {}
  local auths = opts.auths
  if not auths then
    local err
    auths, err = M.auth_file(opts.config)
    if not auths then return nil, err end
  end
  return setmetatable({opts = opts, auths = auths, tokens = {}}, Client)
end

-- Docker Hub's API host answers for the names auth files use for it.
local ALIASES = {["registry-1.docker.io"] = {"docker.io", "index.docker.io"}}

-- The credentials for host (host:port first, then the bare host name).
function Client:creds(host)
  local a = self.auths.auths
  local c = a[host] or a[hostname(host)]
  for _, alias in ipairs(not c and ALIASES[host] or {}) do c = c or a[alias] end
  return c
end

-- "realm=\"x\",service=\"y\"" → {realm=, service=, scope=}.
local function challenge(h)
  local scheme, rest = (h or ""):match("^%s*(%a+)%s*(.*)$")
  if not scheme then return nil end
  local p = {scheme = scheme:lower()}
  for k, v in rest:gmatch('([%w_]+)="([^"]*)"') do p[k:lower()] = v end
  return p
end

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", c:byte()) end))
end

-- The registry's first error message of a JSON error body, bounded.
local function body_reason(r)
  local doc = r.body and #r.body < 65536 and json.decode(r.body)
  local e = type(doc) == "table" and type(doc.errors) == "table" and doc.errors[1]
  local msg = type(e) == "table" and (e.message or e.code)
  if type(msg) == "string" then return ": " .. msg:sub(1, 200) end
  return ""
end

-- The bearer token flow: GET realm?service=&scope= with the basic
-- credentials when there are some; the token is kept per realm and scope.
function Client:token(host, ch)
  local key = (ch.realm or "") .. " " .. (ch.scope or "")
  if self.tokens[key] then return self.tokens[key] end
  local q = {}
  if ch.service then q[#q + 1] = "service=" .. urlencode(ch.service) end
  if ch.scope then q[#q + 1] = "scope=" .. urlencode(ch.scope) end
  local url = ch.realm .. (#q > 0 and ((ch.realm:find("?", 1, true) and "&" or "?") .. table.concat(q, "&")) or "")
  local scheme, thost = split_url(url)
  if not scheme then return nil, "registry " .. host .. ": the token realm is not a URL" end
  if scheme ~= "https" and not M.plain_http_ok(thost, self.opts.insecure) then
    return nil, string.format("registry %s: the token realm %s is plain HTTP (allowed only for 127.0.0.0/8 or --insecure-registry %s)", host, thost, thost)
  end
  local c = self:creds(host)
  local headers = {}
  if c then headers.Authorization = "Basic " .. c.basic end
  local r, err = http.request{url = url, headers = headers, ca_file = self.opts.ca_file,
    timeout = self.opts.timeout or 30}
  if not r then return nil, "registry " .. host .. ": token: " .. err end
  if r.status == 401 or r.status == 403 then
    return nil, string.format("registry %s refused the credentials%s (token service answered %d)%s",
      host, c and (" of " .. c.user .. " from " .. self.auths.file) or " (none given: --registry-config)",
      r.status, body_reason(r))
  end
  local doc = r.status == 200 and json.decode(r.body)
  local tok = type(doc) == "table" and (doc.token or doc.access_token)
  if type(tok) ~= "string" or tok == "" then
    return nil, string.format("registry %s: the token service answered %d without a token", host, r.status)
  end
  hide(tok)
  self.tokens[key] = tok
  return tok
end

local function req_without_auth(req)
  req.headers.Authorization = nil
  return req
end

-- One request on the client's connection, kept alive between requests
-- to the same host (an image's blobs: one TLS handshake, not one each).
function Client:send(req)
  if not self.conn then
    local c, err = http.client{ca_file = self.opts.ca_file}
    if not c then return nil, err end
    self.conn = c
  end
  return self.conn:request(req)
end

-- One GET with the credentials a 401 asks for, following redirects.
-- opts: accept (list of media types), max_body, scope (the token scope
-- the caller expects), what (names the request in errors), headers (more
-- request headers, e.g. Range). Returns the
-- response of the final hop (any status) or nil, err, kind where kind
-- "unreachable" means the network failed (the caller may use its cache).
function Client:get(url, opts)
  opts = opts or {}
  local origin = select(2, split_url(url))
  for _ = 0, M.MAX_REDIRECTS do
    local scheme, host = split_url(url)
    if not scheme or (scheme ~= "https" and scheme ~= "http") then
      return nil, "not an http(s) URL: " .. url
    end
    if scheme == "http" and not M.plain_http_ok(host, self.opts.insecure) then
      return nil, string.format("%s is plain HTTP: allowed only for 127.0.0.0/8 or with --insecure-registry %s", url, host)
    end
    local headers = {}
    for k, v in pairs(opts.headers or {}) do headers[k] = v end
    if opts.accept then headers.Accept = table.concat(opts.accept, ", ") end
    -- credentials go to the host they are for, never on to a redirect's
    local akey = host .. " " .. (opts.scope or "")
    local auth = host == origin and self.auth_for and self.auth_for[akey]
    if auth then headers.Authorization = auth end
    local req = {url = url, headers = headers, timeout = self.opts.timeout or 30, max_body = opts.max_body}
    local r, err = self:send(req)
    if not r then return nil, (opts.what or url) .. ": " .. err, "unreachable" end
    if r.status == 401 and host == origin and auth then
      -- what was kept (a token) may have expired: ask again once
      self.auth_for[akey], self.tokens = nil, {}
      auth = nil
      r, err = self:send(req_without_auth(req))
      if not r then return nil, (opts.what or url) .. ": " .. err, "unreachable" end
    end
    if r.status == 401 and host == origin and not auth then
      local ch = challenge(r.headers["www-authenticate"])
      local c = self:creds(host)
      if ch and ch.scheme == "bearer" and ch.realm then
        if opts.scope and not ch.scope then ch.scope = opts.scope end
        local tok, terr = self:token(host, ch)
        if not tok then return nil, terr end
        auth = "Bearer " .. tok
      elseif c then
        auth = "Basic " .. c.basic
      else
        return nil, string.format("%s: %s asks for credentials and %s has none for it (--registry-config FILE)",
          opts.what or url, host, self.auths.file or "no auth file")
      end
      self.auth_for = self.auth_for or {}
      self.auth_for[akey] = auth
      headers.Authorization = auth
      r, err = self:send(req)
      if not r then return nil, (opts.what or url) .. ": " .. err, "unreachable" end
      if r.status == 401 or r.status == 403 then
        local who = c and (" of " .. c.user .. " from " .. self.auths.file) or ""
        return nil, string.format("%s: %s refused the credentials%s (%d)%s", opts.what or url, host, who,
          r.status, body_reason(r))
      end
    end
    if r.status >= 300 and r.status < 400 and r.headers.location then
      url = M.resolve_url(url, r.headers.location)
    else
      if r.status >= 500 then
        return nil, string.format("%s: the server answered %d", opts.what or url, r.status), "unreachable"
      end
      return r
    end
  end
  return nil, (opts.what or url) .. ": more than " .. M.MAX_REDIRECTS .. " redirects"
end

------------------------------------------------------------------------
-- the distribution API

-- "oci://host[:port]/path/name" → host, repository name (path/name).
function M.parse_ref(ref)
  local host, name = ref:match("^oci://([^/]+)/(.+)$")
  if not host or name:find("[:@]") or name:find("//", 1, true) then
    return nil, string.format("%q is not oci://REGISTRY/PATH/NAME", ref)
  end
  return host, name
end

-- The base URL of a registry: https, or plain HTTP where it is allowed
-- and https is not answered (as Docker tries).
function Client:base(host)
  self.bases = self.bases or {}
  if self.bases[host] then return self.bases[host] end
  local b = "https://" .. host
  if M.plain_http_ok(host, self.opts.insecure) then
    local r = http.request{url = b .. "/v2/", ca_file = self.opts.ca_file, timeout = self.opts.timeout or 30,
      attempts = 1}
    if not r then b = "http://" .. host end
  end
  self.bases[host] = b
  return b
end

local function scope(name) return "repository:" .. name .. ":pull" end

-- A manifest by tag or digest: the decoded manifest, its bytes, digest
-- and media type (the manifest's own, else the Content-Type). accept: the
-- media types asked for (default: the two single-manifest types).
function Client:manifest(host, name, ref, accept)
  local what = string.format("oci://%s/%s%s%s", host, name, ref:match("^sha256:") and "@" or ":", ref)
  local r, err, kind = self:get(self:base(host) .. "/v2/" .. name .. "/manifests/" .. ref,
    {accept = accept or M.MANIFEST_TYPES, max_body = M.MAX_MANIFEST_BYTES, scope = scope(name), what = what})
  if not r then return nil, err, kind end
  if r.status == 404 then return nil, what .. ": not found in the registry" end
  if r.status ~= 200 then return nil, string.format("%s: the registry answered %d%s", what, r.status, body_reason(r)) end
  local d = "sha256:" .. digest.sha256(r.body)
  local want = ref:match("^sha256:") and ref or r.headers["docker-content-digest"]
  if want and want ~= d then
    return nil, string.format("%s: the manifest's digest is %s, not %s", what, d, want)
  end
  local m = json.decode(r.body, {name = what})
  if type(m) ~= "table" then return nil, what .. ": the manifest is not JSON" end
  local mt = type(m.mediaType) == "string" and m.mediaType or
    (r.headers["content-type"] or ""):match("^%s*([^;%s]+)")
  return m, r.body, d, mt
end

-- A blob, checked against its digest (and size when given).
function Client:blob(host, name, d, size, max)
  local what = string.format("oci://%s/%s@%s", host, name, d)
  local hex = d:match("^sha256:(%x+)$")
  if not hex or #hex ~= 64 then return nil, what .. ": only sha256 digests are supported" end
  local r, err, kind = self:get(self:base(host) .. "/v2/" .. name .. "/blobs/" .. d,
    {max_body = max, scope = scope(name), what = what})
  if not r then return nil, err, kind end
  if r.status ~= 200 then return nil, string.format("%s: the registry answered %d%s", what, r.status, body_reason(r)) end
  if size and #r.body ~= size then
    return nil, string.format("%s: %d bytes arrived, the manifest says %d", what, #r.body, size)
  end
  local got = digest.sha256(r.body)
  if got ~= hex:lower() then
    return nil, string.format("%s: the blob's digest is sha256:%s, not %s", what, got, d)
  end
  return r.body
end

-- A blob streamed into the file path: ranged requests of at most
-- KD_LIMIT_IMAGE_CHUNK_BYTES each, appended to path.partial and
-- hashed as they come; renamed to path once its size and sha256 are the
-- descriptor's, else removed. opts.progress(n), when given, hears the bytes of
-- each piece. Returns true or nil, err, kind (kind as get's).
function Client:blob_file(host, name, d, size, path, opts)
  opts = opts or {}
  local what = string.format("oci://%s/%s@%s", host, name, d)
  local hex = d:match("^sha256:(%x+)$")
  if not hex or #hex ~= 64 then return nil, what .. ": only sha256 digests are supported" end
  local L = require "kedge.limits"
  if math.type(size) ~= "integer" or size < 0 or size > L.image_blob_bytes then
    return nil, string.format("%s: the size %s is not 0 to %d bytes (KD_LIMIT_IMAGE_BLOB_BYTES)", what,
      tostring(size), L.image_blob_bytes)
  end
  local chunk = L.image_chunk_bytes
  local tmp = path .. ".partial"
  local f, ferr = io.open(tmp, "wb")
  if not f then return nil, what .. ": " .. tostring(ferr) end
  local function fail(err, kind)
    f:close()
    os.remove(tmp)
    return nil, err, kind
  end
  local h, got = digest.sha256_new(), 0
  local url = self:base(host) .. "/v2/" .. name .. "/blobs/" .. d
  -- bounded: every turn adds at least one byte or fails
  while got < size do
    local n = math.min(chunk, size - got)
    local ranged = size > chunk
    local r, err, kind = self:get(url, {max_body = n, scope = scope(name),
      what = what, headers = ranged and {Range = string.format("bytes=%d-%d", got, got + n - 1)} or nil})
    if not r then return fail(err, kind) end
    if r.status == 404 then return fail(what .. ": not found in the registry") end
    if r.status ~= 200 and r.status ~= 206 then
      return fail(string.format("%s: the registry answered %d%s", what, r.status, body_reason(r)))
    end
    if ranged and r.status ~= 206 then
      return fail(string.format("%s: the registry answered %d to a Range request (a blob over %d bytes is fetched in pieces)",
        what, r.status, chunk))
    end
    local from = r.status == 206 and tonumber((r.headers["content-range"] or ""):match("^%s*bytes%s+(%d+)%-"))
    if r.status == 206 and from ~= got then
      return fail(string.format("%s: asked for bytes from %d, the registry sent %s", what, got,
        r.headers["content-range"] and ("Content-Range " .. r.headers["content-range"]) or "no Content-Range"))
    end
    if #r.body ~= n then
      return fail(string.format("%s: %d bytes arrived at offset %d, %d were asked for (the manifest says %d in all)",
        what, #r.body, got, n, size))
    end
    local ok, werr = f:write(r.body)
    if not ok then return fail(what .. ": writing " .. tmp .. ": " .. tostring(werr)) end
    h:update(r.body)
    got = got + n
    if opts.progress then opts.progress(n) end
  end
  local ok, cerr = f:close()
  if not ok then os.remove(tmp) return nil, what .. ": writing " .. tmp .. ": " .. tostring(cerr) end
  local sum = h:hex()
  if sum ~= hex:lower() then
    os.remove(tmp)
    return nil, string.format("%s: the blob's digest is sha256:%s, not %s", what, sum, d)
  end
  local rok, rerr = kos.fsync(tmp)
  if rok then rok, rerr = os.rename(tmp, path) end
  if not rok then os.remove(tmp) return nil, what .. ": " .. tostring(rerr) end
  kos.sync_dir(path:match("^(.*)/") or ".")
  return true
end

-- The repository's tags (GET /v2/<name>/tags/list).
function Client:tags(host, name)
  local what = string.format("oci://%s/%s", host, name)
  local r, err, kind = self:get(self:base(host) .. "/v2/" .. name .. "/tags/list",
    {max_body = M.MAX_MANIFEST_BYTES, scope = scope(name), what = what .. " tags"})
  if not r then return nil, err, kind end
  if r.status ~= 200 then return nil, string.format("%s: listing tags, the registry answered %d%s", what, r.status, body_reason(r)) end
  local doc = json.decode(r.body)
  return type(doc) == "table" and type(doc.tags) == "table" and doc.tags or {}
end

-- The version a chart's version range picks among the tags (Helm stores
-- "+" as "_" in tags): an exact version is taken as it is.
function Client:chart_version(host, name, range)
  if semver.parse(range, {strict = true}) then return range end
  local tags, err, kind = self:tags(host, name)
  if not tags then return nil, err, kind end
  local vs = {}
  for _, t in ipairs(tags) do vs[#vs + 1] = (t:gsub("_", "+")) end
  local v, rerr = semver.max_satisfying(vs, range)
  if rerr then return nil, string.format("version %q: %s", range, rerr) end
  if not v then
    return nil, string.format("oci://%s/%s: no version matches %s (tags: %s)", host, name, range,
      #tags > 0 and table.concat(tags, ", ", 1, math.min(#tags, 20)) or "none")
  end
  return v
end

-- A chart in Helm's OCI layout: returns the .tgz bytes, the layer's
-- digest and the version, or nil, err, kind. have(digest), when given,
-- returns the layer's bytes when the caller already holds them (a cache).
function Client:pull_chart(ref, range, max, have)
  local host, name = M.parse_ref(ref)
  if not host then return nil, name end
  local version, verr, vkind = self:chart_version(host, name, range)
  if not version then return nil, verr, vkind end
  local m, err, kind = self:manifest(host, name, (version:gsub("%+", "_")))
  if not m then return nil, err, kind end
  local what = string.format("oci://%s/%s:%s", host, name, version)
  if type(m.config) ~= "table" or m.config.mediaType ~= M.HELM_CONFIG then
    return nil, what .. ": not a Helm chart (the manifest's config is not " .. M.HELM_CONFIG .. ")"
  end
  local layer
  for _, l in ipairs(type(m.layers) == "table" and m.layers or {}) do
    if type(l) == "table" and l.mediaType == M.HELM_LAYER then layer = l end
  end
  if not layer or type(layer.digest) ~= "string" then
    return nil, what .. ": the manifest has no " .. M.HELM_LAYER .. " layer"
  end
  local kept = have and have(layer.digest)
  if kept then return kept, layer.digest, version end
  local tgz, berr, bkind = self:blob(host, name, layer.digest, math.tointeger(layer.size), max)
  if not tgz then return nil, berr, bkind end
  return tgz, layer.digest, version
end

return M

-- kedge.agent.lease: one agent per site on a multi-node site, through a
-- coordination.k8s.io/v1 Lease (as Kubernetes' own leader election):
-- the holder renews it well within leaseDurationSeconds; another agent
-- takes it only once renewTime + leaseDurationSeconds has passed, or when
-- the holder released it (holderIdentity empty). Every write carries the
-- resourceVersion it read, so of two agents racing for a free lease the
-- API server lets exactly one win (409 Conflict for the other).
--
--   local l = lease.new{client = c, namespace = "kedge-system",
--                       name = "kedge-agent-site", holder = "node-1-4242", duration = 15}
--   l:acquire() -> true | false, {holder =, expires =} | nil, err
--   l:renew()   -> the same; false once another agent holds it
--   l:release() -> true (released or not ours) | nil, err
local kos = require "kedge.os"

local M = {}

local Lease = {}
Lease.__index = Lease

function M.new(o)
  assert(o.client and o.namespace and o.name and o.holder, "lease.new: client, namespace, name, holder")
  return setmetatable({c = o.client, namespace = o.namespace, name = o.name, holder = o.holder,
    duration = math.max(1, math.floor(o.duration or 15))}, Lease)
end

-- MicroTime, as the API server writes it: RFC 3339 with microseconds, UTC.
local function micro_time(t)
  local s = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", s) .. string.format(".%06dZ", math.floor((t - s) * 1e6))
end
M.micro_time = micro_time

-- Days since 1970-01-01 of a civil date (proleptic Gregorian).
local function days(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

-- RFC 3339 UTC ("...Z", fraction optional) -> Unix seconds; nil otherwise.
function M.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, sec, frac = s:match("^(%d%d%d%d)-(%d%d)-(%d%d)T(%d%d):(%d%d):(%d%d)(%.?%d*)Z$")
  if not y then return nil end
  local t = days(tonumber(y), tonumber(mo), tonumber(d)) * 86400 + tonumber(h) * 3600 +
    tonumber(mi) * 60 + tonumber(sec)
  if frac ~= "" and frac ~= "." then t = t + tonumber("0" .. frac) end
  return t
end

function Lease:path(name)
  return "/apis/coordination.k8s.io/v1/namespaces/" .. self.namespace .. "/leases" ..
    (name and ("/" .. name) or "")
end

-- The lease's namespace, made when it is missing (409: someone just did).
function Lease:ensure_namespace()
  local st, body = self.c:call("POST", "/api/v1/namespaces",
    {apiVersion = "v1", kind = "Namespace", metadata = {name = self.namespace}})
  if not st then return nil, body end
  if st == 201 or st == 409 then return true end
  return nil, string.format("creating namespace %s: HTTP %d %s", self.namespace, st,
    type(body) == "table" and tostring(body.message) or "")
end

function Lease:spec(old, now)
  local s = {holderIdentity = self.holder, leaseDurationSeconds = self.duration,
    renewTime = micro_time(now)}
  local prev = old and old.spec or {}
  if prev.holderIdentity == self.holder then
    s.acquireTime = prev.acquireTime or micro_time(now)
    s.leaseTransitions = prev.leaseTransitions or 0
  else
    s.acquireTime = micro_time(now)
    s.leaseTransitions = (prev.leaseTransitions or 0) + ((prev.holderIdentity or "") ~= "" and 1 or 0)
  end
  return s
end

-- Who holds it and until when (nil holder: free).
local function holder_of(obj, now)
  local s = obj.spec or {}
  local h = s.holderIdentity
  if h == nil or h == "" then return nil end
  local renewed = M.parse_time(s.renewTime) or M.parse_time(s.acquireTime) or 0
  local expires = renewed + (s.leaseDurationSeconds or 15)
  if expires < now then return nil end
  return h, expires
end

function Lease:create(now)
  local st, body = self.c:call("POST", self:path(), {apiVersion = "coordination.k8s.io/v1",
    kind = "Lease", metadata = {name = self.name, namespace = self.namespace}, spec = self:spec(nil, now)})
  if not st then return nil, body end
  if st == 404 then
    local ok, err = self:ensure_namespace()
    if not ok then return nil, err end
    return self:create(now)
  end
  if st == 201 then return true end
  if st == 409 then return false, {holder = "another agent (it was created meanwhile)"} end
  return nil, string.format("creating lease %s/%s: HTTP %d", self.namespace, self.name, st)
end

-- Takes or renews the lease; only_renew: never take it from another.
function Lease:take(only_renew)
  local now = kos.now()
  local st, obj = self.c:call("GET", self:path(self.name))
  if not st then return nil, obj end
  if st == 404 then
    if only_renew then return false, {holder = nil} end
    return self:create(now)
  end
  if st ~= 200 or type(obj) ~= "table" then
    return nil, string.format("reading lease %s/%s: HTTP %d", self.namespace, self.name, st)
  end
  local h, expires = holder_of(obj, now)
  if h and h ~= self.holder then return false, {holder = h, expires = expires} end
  if only_renew and (obj.spec or {}).holderIdentity ~= self.holder then
    return false, {holder = (obj.spec or {}).holderIdentity}
  end
  obj.spec = self:spec(obj, now)
  local pst, body = self.c:call("PUT", self:path(self.name), obj)
  if not pst then return nil, body end
  if pst == 200 then return true end
  if pst == 409 then return false, {holder = "another agent (it changed the lease meanwhile)"} end
  return nil, string.format("writing lease %s/%s: HTTP %d %s", self.namespace, self.name, pst,
    type(body) == "table" and tostring(body.message) or "")
end

function Lease:acquire() return self:take(false) end
function Lease:renew() return self:take(true) end

-- Gives the lease up at once (holderIdentity empty), so another agent need
-- not wait for it to expire. Not holding it is not an error.
function Lease:release()
  local st, obj = self.c:call("GET", self:path(self.name))
  if not st then return nil, obj end
  if st == 404 then return true end
  if st ~= 200 or type(obj) ~= "table" then
    return nil, string.format("reading lease %s/%s: HTTP %d", self.namespace, self.name, st)
  end
  if (obj.spec or {}).holderIdentity ~= self.holder then return true end
  obj.spec.holderIdentity = ""
  obj.spec.leaseDurationSeconds = 1
  obj.spec.renewTime = micro_time(kos.now())
  local pst = self.c:call("PUT", self:path(self.name), obj)
  if pst == 200 or pst == 409 then return true end
  return nil, string.format("releasing lease %s/%s: HTTP %s", self.namespace, self.name, tostring(pst))
end

return M

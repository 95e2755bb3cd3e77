-- kedge.agent.config: the agent's config file (/etc/kedge/agent.yaml),
-- validated as the config repo is: every problem found, each with its
-- file, line and column, and a did-you-mean for a misspelt key.
--
--   local cfg, errs = config.load(path)        -- errs: a list of problems
--   cfg, errs = config.override(cfg, flags)    -- the command line over it
--   io.stderr:write(config.format_errors(errs))
--
-- A config (keys as Lua names): site, repo, ref, git {ca_file, token_file,
-- username, password_file, ssh_key, ssh_key_passphrase_file, known_hosts,
-- trust_new_host, verify, trusted_keys}, state_dir, kubeconfig, context,
-- interval, jitter, drift_interval, backoff {initial, max}, metrics
-- {textfile, listen {host, port}}, leader_election {namespace, name,
-- lease_duration} or nil, identity, wait, ignore_windows (an emergency:
-- deployment windows hold no bundle), allow_downgrade (the pass's
-- --allow-downgrade), registry_config, registry_ca, insecure_registry (a
-- list: remote charts, kedge.charts), containerd_socket and pack (the
-- image preflight, kedge.preflight), source (the file's path).
-- Durations are seconds.
local git = require "kedge.git"
local site = require "kedge.site"
local yaml = require "kedge.yaml"

local M = {}

M.DEFAULT_PATH = "/etc/kedge/agent.yaml"
M.ENV = "KEDGE_CONFIG"
M.LEASE_NAMESPACE = "kedge-system"
M.LEASE_DURATION = 15
M.MAX_BYTES = 1 << 20

-- The git keys: kedge sync's flags.
M.GIT_KEYS = {"ca-file", "token-file", "username", "password-file", "ssh-key",
  "ssh-key-passphrase-file", "known-hosts", "trust-new-host", "verify", "trusted-keys"}

local function lua_name(key) return (key:gsub("-", "_")) end

-- Every top-level key, as the file spells it.
M.KEYS = {"site", "repo", "ref", "state-dir", "kubeconfig", "context", "interval", "jitter",
  "drift-interval", "backoff", "metrics", "leader-election", "identity", "wait", "ignore-windows",
  "registry-config", "registry-ca", "insecure-registry"}
for _, k in ipairs(M.GIT_KEYS) do M.KEYS[#M.KEYS + 1] = k end
M.KEYS[#M.KEYS + 1] = "allow-downgrade"
M.KEYS[#M.KEYS + 1], M.KEYS[#M.KEYS + 2] = "containerd-socket", "pack"
table.sort(M.KEYS)

local GIT_LUA = {}
for _, k in ipairs(M.GIT_KEYS) do GIT_LUA[lua_name(k)] = true end

local BACKOFF_KEYS = {"initial", "max"}
local METRICS_KEYS = {"listen", "textfile"}
local LEASE_KEYS = {"lease-duration", "name", "namespace"}

local UNITS = {ms = 0.001, s = 1, m = 60, h = 3600}

-- "30s", "5m", "1h30m", "250ms", "0s", or a number of seconds -> seconds;
-- nil, why for anything else.
function M.parse_duration(v)
  if math.type(v) == "integer" and v >= 0 then return v end
  if type(v) ~= "string" or v == "" or #v > 32 then
    return nil, "a duration such as 30s, 5m or 1h"
  end
  if v:match("^%d+$") then return tonumber(v) end
  local total, rest = 0, v
  while rest ~= "" do
    local n, unit, tail = rest:match("^(%d+%.?%d*)(%a+)(.*)$")
    if not n or not UNITS[unit] then
      return nil, string.format('"%s" is not a duration (use 30s, 5m, 1h or 1h30m)', v)
    end
    total, rest = total + tonumber(n) * UNITS[unit], tail
  end
  return total
end

-- host:port (IPv6 in brackets) -> {host=, port=}; nil, why.
local function parse_listen(v)
  if type(v) ~= "string" then return nil, "HOST:PORT, e.g. 127.0.0.1:9101" end
  local host, port = v:match("^%[([%x:]+)%]:(%d+)$")
  if not host then host, port = v:match("^([%w%.%-]+):(%d+)$") end
  port = tonumber(port)
  if not host or not port or port > 65535 then
    return nil, string.format('"%s" is not HOST:PORT (e.g. 127.0.0.1:9101)', v)
  end
  return {host = host, port = math.tointeger(port)}
end

------------------------------------------------------------------------
-- checking one document: problems with their places

local Check = {}
Check.__index = Check

function Check:add(path, fmt, ...)
  local p, at = path, nil
  while p and not at do
    at = self.pos and self.pos[p]
    p = p:match("^(.*)%.[^.]+$") or (p ~= "" and "" or nil)
  end
  at = at or {line = 1, col = 1}
  self.errs[#self.errs + 1] = {file = self.file, line = at.line, col = at.col,
    message = string.format(fmt, ...)}
end

local function kind(v)
  if type(v) == "table" then return #v > 0 and "a list" or "a map" end
  if math.type(v) then return "a number" end
  if type(v) == "boolean" then return "a boolean" end
  return type(v) == "string" and "a string" or "empty"
end

function Check:keys(map, path, known)
  for k in pairs(map) do
    local ok = false
    for _, c in ipairs(known) do if c == k then ok = true end end
    if not ok then
      local near = site.closest(tostring(k), known)
      self:add((path == "" and "" or path .. ".") .. tostring(k), 'unknown key "%s"%s',
        tostring(k), near and string.format(' (did you mean "%s"?)', near) or
        " (known: " .. table.concat(known, ", ") .. ")")
    end
  end
end

function Check:string(map, key, path)
  local v = map[key]
  if v == nil then return nil end
  if type(v) ~= "string" or v == "" then
    self:add(path, "%s: want a non-empty string, not %s", key, kind(v))
    return nil
  end
  return v
end

function Check:boolean(map, key)
  local v = map[key]
  if v ~= nil and type(v) ~= "boolean" then
    self:add(key, "%s: want true or false, not %s", key, kind(v))
    return nil
  end
  return v
end

function Check:duration(map, key, path)
  local v = map[key]
  if v == nil then return nil end
  local d, why = M.parse_duration(v)
  if not d then self:add(path, "%s: %s", key, why) end
  return d
end

function Check:map(map, key, path)
  local v = map[key]
  if v == nil then return nil end
  if type(v) ~= "table" or (#v > 0) then
    self:add(path, "%s: want a map, not %s", key, kind(v))
    return nil
  end
  return v
end

------------------------------------------------------------------------

function Check:git(doc)
  local g = {}
  for _, k in ipairs(M.GIT_KEYS) do
    if k == "trust-new-host" then
      local v = doc[k]
      if v ~= nil and type(v) ~= "boolean" then
        self:add(k, "%s: want true or false, not %s", k, kind(v))
      else
        g.trust_new_host = v
      end
    else
      g[lua_name(k)] = self:string(doc, k, k)
    end
  end
  if g.verify and g.verify ~= "off" and g.verify ~= "head" and g.verify ~= "tag" then
    self:add("verify", 'verify: "%s" is none of off, head, tag', g.verify)
  end
  return g
end

function Check:timing(doc, cfg)
  cfg.interval = self:duration(doc, "interval", "interval") or 300
  if cfg.interval <= 0 and doc.interval ~= nil then self:add("interval", "interval: must be over 0s") end
  cfg.jitter = self:duration(doc, "jitter", "jitter")
  -- defaults that follow the interval, also when a flag sets it
  cfg.follows = {jitter = cfg.jitter == nil or nil}
  cfg.jitter = cfg.jitter or cfg.interval / 10
  cfg.drift_interval = self:duration(doc, "drift-interval", "drift-interval") or 900
  local b = self:map(doc, "backoff", "backoff") or {}
  self:keys(b, "backoff", BACKOFF_KEYS)
  cfg.backoff = {initial = self:duration(b, "initial", "backoff.initial"),
    max = self:duration(b, "max", "backoff.max") or 3600}
  cfg.follows.backoff_initial = cfg.backoff.initial == nil or nil
  cfg.backoff.initial = cfg.backoff.initial or cfg.interval
  if cfg.backoff.max < cfg.backoff.initial then cfg.backoff.max = cfg.backoff.initial end
  local w = doc.wait
  if w ~= nil then
    if w == false then cfg.wait = 0 else cfg.wait = self:duration(doc, "wait", "wait") end
  end
end

function Check:metrics(doc, cfg)
  local m = self:map(doc, "metrics", "metrics") or {}
  self:keys(m, "metrics", METRICS_KEYS)
  cfg.metrics = {textfile = self:string(m, "textfile", "metrics.textfile")}
  if m.listen ~= nil then
    local l, why = parse_listen(m.listen)
    if l then cfg.metrics.listen = l else self:add("metrics.listen", "metrics.listen: %s", why) end
  end
end

function Check:leader(doc, cfg)
  local v = doc["leader-election"]
  if v == nil or v == false then return end
  if v == true then v = {} end
  if type(v) ~= "table" or #v > 0 then
    self:add("leader-election", "leader-election: want true, false or a map, not %s", kind(v))
    return
  end
  self:keys(v, "leader-election", LEASE_KEYS)
  cfg.leader_election = {
    namespace = self:string(v, "namespace", "leader-election.namespace") or M.LEASE_NAMESPACE,
    name = self:string(v, "name", "leader-election.name"),
    lease_duration = self:duration(v, "lease-duration", "leader-election.lease-duration") or M.LEASE_DURATION}
  if cfg.leader_election.lease_duration < 1 then
    self:add("leader-election.lease-duration", "leader-election.lease-duration: at least 1s")
  end
end

-- The checks and defaults that hold after flags too.
local function finish(cfg)
  local le = cfg.leader_election
  if le and not le.name and cfg.site then le.name = "kedge-agent-" .. cfg.site:lower() end
  if cfg.git.verify and cfg.git.verify ~= "off" and not cfg.git.trusted_keys then
    return "verify: " .. cfg.git.verify .. " needs trusted-keys: FILE"
  end
  if not cfg.repo then return "no repo: set repo: (a URL or a path) or --repo" end
  return nil
end

-- text: the file's content; name: its path (for messages). -> cfg, or nil, errs.
function M.parse(text, name)
  local doc, pos = yaml.decode(text, {name = name, positions = true})
  if doc == nil then
    local file, line, col, msg = tostring(pos):match("^(.-):(%d+):(%d+): (.*)$")
    return nil, {{file = file or name, line = tonumber(line) or 1, col = tonumber(col) or 1,
      message = msg or tostring(pos)}}
  end
  local c = setmetatable({file = name, pos = pos, errs = {}}, Check)
  if doc == yaml.null or doc == nil then doc = {} end
  if type(doc) ~= "table" or #doc > 0 then
    c:add("", "want a map of settings (site:, repo:, ...), not %s", kind(doc))
    return nil, c.errs
  end
  c:keys(doc, "", M.KEYS)
  local cfg = {source = name, site = c:string(doc, "site", "site"), repo = c:string(doc, "repo", "repo"),
    ref = c:string(doc, "ref", "ref") or "main",
    state_dir = c:string(doc, "state-dir", "state-dir") or git.DEFAULT_STATE,
    kubeconfig = c:string(doc, "kubeconfig", "kubeconfig"), context = c:string(doc, "context", "context"),
    identity = c:string(doc, "identity", "identity"),
    registry_config = c:string(doc, "registry-config", "registry-config"),
    registry_ca = c:string(doc, "registry-ca", "registry-ca"),
    containerd_socket = c:string(doc, "containerd-socket", "containerd-socket"),
    pack = c:string(doc, "pack", "pack")}
  local ir = doc["insecure-registry"]
  if type(ir) == "string" then ir = {ir} end
  if ir ~= nil then
    local okl = type(ir) == "table" and (next(ir) == nil or #ir > 0)
    for _, h in ipairs(okl and ir or {}) do okl = okl and type(h) == "string" and h ~= "" end
    if okl then cfg.insecure_registry = ir else
      c:add("insecure-registry", "insecure-registry: want a host or a list of hosts (HOST[:PORT]), not %s", kind(ir))
    end
  end
  cfg.git = c:git(doc)
  local iw = doc["ignore-windows"]
  if iw ~= nil and type(iw) ~= "boolean" then
    c:add("ignore-windows", "ignore-windows: want true or false, not %s", kind(iw))
  else
    cfg.ignore_windows = iw or nil
  end
  cfg.allow_downgrade = c:boolean(doc, "allow-downgrade")
  c:timing(doc, cfg)
  c:metrics(doc, cfg)
  c:leader(doc, cfg)
  if cfg.git.verify and cfg.git.verify ~= "off" and not cfg.git.trusted_keys then
    c:add("verify", "verify: %s needs trusted-keys: FILE (an allowed-signers file)", cfg.git.verify)
  end
  if #c.errs > 0 then return nil, c.errs end
  local why = finish(cfg)
  if why then return nil, {{file = name, line = 1, col = 1, message = why}} end
  return cfg
end

function M.load(path)
  local f, err = io.open(path, "rb")
  if not f then
    return nil, {{file = path, message = "cannot read the agent's config: " .. tostring(err) ..
      " (write one, or `kedge agent install` writes a sample; --config FILE, $" .. M.ENV .. ")"}}
  end
  local text = f:read(M.MAX_BYTES + 1)
  f:close()
  if text and #text > M.MAX_BYTES then
    return nil, {{file = path, message = "over " .. M.MAX_BYTES .. " bytes: not an agent config"}}
  end
  return M.parse(text or "", path)
end

local OVERRIDE_DURATION = {interval = true, jitter = true, drift_interval = true,
  backoff_initial = true, backoff_max = true}

local function set_flag(cfg, k, v)
  if OVERRIDE_DURATION[k] then
    local d, why = M.parse_duration(v)
    if not d then return "--" .. k:gsub("_", "-") .. ": " .. why end
    if k == "backoff_initial" then cfg.backoff.initial = d
    elseif k == "backoff_max" then cfg.backoff.max = d
    else cfg[k] = d end
  elseif k == "metrics_textfile" then
    cfg.metrics.textfile = v
  elseif k == "metrics_listen" then
    local l, why = parse_listen(v)
    if not l then return "--metrics-listen: " .. why end
    cfg.metrics.listen = l
  elseif k == "ignore_windows" then
    cfg.ignore_windows = (v == true or v == "true") or nil
  elseif k == "allow_downgrade" then
    cfg[k] = v == true or v == "true"
  elseif GIT_LUA[k] then
    if k == "trust_new_host" then v = v == true or v == "true" end
    cfg.git[k] = v
  else
    cfg[k] = v
  end
  return nil
end

-- flags: {lua_key = value} from the command line (strings as given); the
-- same keys as the file's, backoff and metrics flattened (backoff_initial,
-- metrics_listen). -> cfg, or nil, errs.
function M.override(cfg, flags)
  local keys = {}
  for k in pairs(flags) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local why = set_flag(cfg, k, flags[k])
    if why then return nil, {{message = why}} end
  end
  local f = cfg.follows or {}
  if f.jitter and flags.jitter == nil then cfg.jitter = cfg.interval / 10 end
  if f.backoff_initial and flags.backoff_initial == nil then cfg.backoff.initial = cfg.interval end
  if cfg.backoff.max < cfg.backoff.initial then cfg.backoff.max = cfg.backoff.initial end
  local why = finish(cfg)
  if why then return nil, {{file = cfg.source, message = why}} end
  return cfg
end

-- The problems as lines a person reads: "file:line:col: message".
function M.format_errors(errs)
  if type(errs) ~= "table" then return tostring(errs) end
  local out = {}
  for i, e in ipairs(errs) do
    if i > 20 then
      out[#out + 1] = string.format("... and %d more", #errs - 20)
      break
    end
    local at = e.file and (e.line and string.format("%s:%d:%d: ", e.file, e.line, e.col or 1) or
      e.file .. ": ") or ""
    out[#out + 1] = at .. e.message
  end
  return table.concat(out, "\n")
end

return M

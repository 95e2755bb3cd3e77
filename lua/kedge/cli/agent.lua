-- kedge.cli.agent: `kedge agent [install|uninstall]` and `kedge status`,
-- handlers of the command table (kedge.cli).
local config = require "kedge.agent.config"
local json = require "kedge.json"
local kos = require "kedge.os"
local state = require "kedge.agent.state"

local M = {}

-- The flags that override config keys (kedge.agent.config.override's keys).
local OVERRIDES = {"site", "repo", "ref", "state_dir", "kubeconfig", "context", "interval", "jitter",
  "drift_interval", "backoff_initial", "backoff_max", "metrics_textfile", "metrics_listen", "identity",
  "ca_file", "token_file", "username", "password_file", "ssh_key", "ssh_key_passphrase_file",
  "known_hosts", "trust_new_host", "verify", "trusted_keys", "ignore_windows", "allow_downgrade",
  "registry_config", "registry_ca", "insecure_registry", "containerd_socket", "pack"}

local function config_path(o)
  return o.config or config.DEFAULT_PATH
end

-- The site when neither the config nor --site names it: $KEDGE_SITE, else
-- the host name up to its first dot (as kedge apply).
local function default_site()
  local s = os.getenv("KEDGE_SITE")
  if s and s ~= "" then return s end
  local f = io.open("/proc/sys/kernel/hostname", "r")
  local h = f and f:read("l")
  if f then f:close() end
  return h and h:match("^([^.%s]+)")
end

-- A loader for the agent: the config file with the flags over it.
local function loader(o)
  local flags = {}
  for _, k in ipairs(OVERRIDES) do
    if o[k] ~= nil then flags[k] = type(o[k]) == "boolean" and tostring(o[k]) or o[k] end
  end
  return function()
    local cfg, errs = config.load(config_path(o))
    if cfg then cfg, errs = config.override(cfg, flags) end
    if not cfg then return nil, config.format_errors(errs) end
    cfg.site = cfg.site or default_site()
    if not cfg.site then
      return nil, config_path(o) .. ": no site: set site: in the config, --site or $KEDGE_SITE"
    end
    return cfg
  end
end

-- The config `kedge agent install` writes when there is none.
local function sample(o)
  return table.concat({
    "# The kedge agent's config: `kedge help agent`, README \"Agent\".",
    "site: " .. (o.site or "CHANGE-ME"),
    "repo: " .. (o.repo or "https://git.example.org/sites.git"),
    "ref: " .. (o.ref or "main"),
    "# token-file: /etc/kedge/git-token",
    "# interval: 5m",
    "# drift-interval: 15m",
    "# metrics:",
    "#   textfile: /var/lib/node_exporter/textfile_collector/kedge.prom",
    "#   listen: 127.0.0.1:9101",
    ""}, "\n")
end

local function install(o, uninstall)
  local systemd = require "kedge.agent.systemd"
  local root = o.root or "/"
  local r, err
  if uninstall then
    r, err = systemd.uninstall{root = root}
  else
    -- a config already there decides the state dir and what else the
    -- unit must let the agent write (ProtectSystem=strict)
    local path = config_path(o)
    local have = config.load(root == "/" and path or (root:gsub("/+$", "") .. path))
    local writable = {}
    if have and have.metrics.textfile then writable[1] = have.metrics.textfile:match("^(.*)/[^/]+$") end
    r, err = systemd.install{root = root, exe = kos.exe(), config = path,
      state_dir = o.state_dir or (have and have.state_dir) or require("kedge.cli").DEFAULT_STATE_DIR,
      writable = writable, config_text = sample(o)}
  end
  if not r then
    io.stderr:write("kedge agent: ", tostring(err), "\n")
    return 1
  end
  for _, p in ipairs(r.written or {}) do print("wrote " .. p) end
  for _, p in ipairs(r.kept or {}) do print("kept " .. p) end
  for _, p in ipairs(r.removed or {}) do print("removed " .. p) end
  for _, c in ipairs(r.ran or {}) do print("ran " .. c) end
  return 0
end

function M.run(o, args, cmd)
  if o.tick_child then return require("kedge.agent.tick").main() end
  local sub = args[1]
  if sub == "install" or sub == "uninstall" then return install(o, sub == "uninstall") end
  if sub then return require("kedge.cli").usage_error(cmd, "agent takes install or uninstall, not '" .. sub .. "'") end
  local load = loader(o)
  local cfg, err = load()
  if not cfg then
    io.stderr:write("kedge agent: ", err, "\n")
    if o.once then return 1 end
    cfg, err = require("kedge.agent").wait_config(load, o)
    if not cfg then return err == "stopped" and 0 or 1 end
  end
  local a = require("kedge.agent").new{config = cfg, reload = load}
  local ok, rerr = a:run(o.once)
  if not ok then
    io.stderr:write("kedge agent: ", rerr, "\n")
    return 1
  end
  return o.once and a:once_code() or 0
end

-- ---- kedge status ----

-- " (5m ago)" for an ISO 8601 UTC time ("" when it is not one).
local function age(iso)
  if type(iso) ~= "string" then return "" end
  local y, mo, d, h, mi, sec = iso:match("^(%d+)-(%d+)-(%d+)T(%d+):(%d+):(%d+)Z$")
  if not y then return "" end
  local now = os.time()
  -- os.time reads a table as local time: correct by the zone's offset
  local offset = os.time(os.date("*t", now)) - os.time(os.date("!*t", now))
  local secs = now - (os.time{year = y, month = mo, day = d, hour = h, min = mi, sec = sec} + offset)
  if secs < 120 then return string.format(" (%ds ago)", secs) end
  if secs < 7200 then return string.format(" (%dm ago)", secs // 60) end
  if secs < 172800 then return string.format(" (%dh ago)", secs // 3600) end
  return string.format(" (%dd ago)", secs // 86400)
end

local function status_dir(o)
  if o.state_dir then return o.state_dir end
  local cfg = config.load(config_path(o))
  return cfg and cfg.state_dir or require("kedge.cli").DEFAULT_STATE_DIR
end

-- What the repo's health scripts said of each bundle's objects in the
-- last pass (its report: STATE/reports or the outbox): bundle -> list of
-- {kind, namespace, name, status, message}; nil without a report.
local function last_health(dir, st)
  local id = type(st.last_pass) == "table" and st.last_pass.report or nil
  if type(id) ~= "string" then return nil end
  local doc = require("kedge.report").show(dir, id)
  if type(doc) ~= "table" then return nil end
  local out
  for _, b in ipairs(doc.bundles or {}) do
    if type(b.health) == "table" and #b.health > 0 then
      out = out or {}
      out[b.name] = b.health
    end
  end
  return out
end

local function print_health(health)
  local names = {}
  for name in pairs(health or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local healthy = 0
    for _, h in ipairs(health[name]) do
      if h.status == "Healthy" then
        healthy = healthy + 1
      else
        print(string.format("health:   %-20s %s %s %s%s%s", name, tostring(h.status), tostring(h.kind),
          h.namespace and (h.namespace .. "/") or "", tostring(h.name), h.message and (": " .. h.message) or ""))
      end
    end
    if healthy > 0 then print(string.format("health:   %-20s %d Healthy", name, healthy)) end
  end
end

local function print_status(st, rec, dir, running, pending)
  print(string.format("agent:    %s", running and ("running (pid " .. math.tointeger(st.pid) .. ")") or
    "not running" .. (st.pid and (" (last pid " .. math.tointeger(st.pid) .. ")") or "")))
  print(string.format("site:     %s", tostring(st.site or "-")))
  print(string.format("state:    %s", dir))
  local ls = st.last_success or {}
  print(string.format("commit:   %s%s", tostring(st.commit or "-"),
    ls.at and (", last applied at " .. ls.at .. age(ls.at)) or ""))
  local lt, lp = st.last_tick or {}, st.last_pass or {}
  print(string.format("tick:     %s at %s%s; next %s", tostring(lt.result or "none yet"),
    tostring(lt.at or "-"), age(lt.at), tostring(st.next_tick or "-")))
  print(string.format("pass:     %s at %s%s%s", tostring(lp.result or "none yet"), tostring(lp.at or "-"),
    age(lp.at), lp.report and (", report " .. lp.report) or ""))
  if (st.consecutive_failures or 0) > 0 then
    print(string.format("failures: %d in a row", st.consecutive_failures))
  end
  local err = lt.error or lp.error
  if err then print("error:    " .. tostring(err)) end
  print(string.format("drift:    %d corrections", st.drift_corrections or 0))
  print(string.format("outbox:   %d report%s pending", pending, pending == 1 and "" or "s"))
  local names = {}
  for name in pairs(rec and rec.bundles or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, h in ipairs(st.held or {}) do
    print(string.format("held:     %-20s %s: %s%s", tostring(h.bundle), tostring(h.gate), tostring(h.reason),
      h["until"] and (", until " .. os.date("!%Y-%m-%dT%H:%M:%SZ", h["until"])) or ""))
  end
  local w = st.wake
  if type(w) == "table" and type(w.at) == "number" then
    -- the gates' next pass: the agent runs it then though the repo did not move
    print(string.format("wake:     %s for %s%s", os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(w.at)),
      tostring(w.why or "a gate"),
      w.bundle and (" (bundle " .. tostring(w.bundle) .. ")") or ""))
  end
  for _, name in ipairs(names) do
    local b = rec.bundles[name]
    print(string.format("bundle:   %-20s %s %s, good at %s%s", name, tostring(b.chart or "-"),
      tostring(b.version or "-"), tostring(b.commit or "-"):sub(1, 12), age(b.at)))
  end
  print_health(st.health)
end

-- The local pauses of the state directory (kedge pause, kedge rollback):
-- {{site=, bundle= (nil: the whole site), who=, at=, reason=}}, sorted.
local function local_pauses(dir)
  local doc = require("kedge.gates.pause").read(dir) or {sites = {}}
  local out, sites = {}, {}
  for name in pairs(doc.sites) do sites[#sites + 1] = name end
  table.sort(sites)
  for _, name in ipairs(sites) do
    local s = doc.sites[name]
    local function add(bundle, p)
      if type(p) == "table" then
        out[#out + 1] = {site = name, bundle = bundle, who = p.who, at = p.at, reason = p.reason}
      end
    end
    add(nil, s.site)
    local names = {}
    for b in pairs(type(s.bundles) == "table" and s.bundles or {}) do names[#names + 1] = b end
    table.sort(names)
    for _, b in ipairs(names) do add(b, s.bundles[b]) end
  end
  return require("kedge").list(out)
end

local function print_pauses(list)
  for _, p in ipairs(list) do
    print(string.format("paused:   %-20s site %s, by %s at %s%s: %s", p.bundle or "every bundle",
      tostring(p.site), tostring(p.who), tostring(p.at), age(p.at), tostring(p.reason)))
  end
end

function M.status(o)
  local dir = status_dir(o)
  local st, err = state.read(dir)
  local pauses = local_pauses(dir)
  if not st and not o.json then print_pauses(pauses) end
  if not st then
    io.stderr:write("kedge status: ", err or ("no agent state in " .. dir ..
      " (is `kedge agent` running with this state dir? see `kedge help agent`)"), "\n")
    return 3
  end
  local rec = state.site_record(dir, st.site) or {}
  local running = state.alive(st.pid)
  local pending = state.outbox_pending(dir)
  st.health = last_health(dir, st)
  if o.json then
    st.running, st.outbox_pending, st.bundles, st.state_dir = running, pending, rec.bundles, dir
    st.paused = pauses
    io.write(json.encode(st, {indent = 2}), "\n")
  else
    print_status(st, rec, dir, running, pending)
    print_pauses(pauses)
  end
  local lt = st.last_tick or {}
  return (running and (st.consecutive_failures or 0) == 0 and lt.result ~= "failed") and 0 or 1
end

return M

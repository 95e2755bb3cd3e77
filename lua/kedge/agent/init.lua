-- kedge.agent: the resident pull-mode agent (`kedge agent`). It sleeps in
-- poll() until the next tick, a signal or a metrics request: no timer
-- fires while idle. Each tick runs in a child process, a re-exec of this
-- binary (kedge.agent.tick), so what a pass allocates goes back to the
-- system and the resident process stays small.
--
--   SIGTERM, SIGINT  stop: a running pass gets until GRACE to finish, then
--                    SIGTERM, then SIGKILL; exit 0
--   SIGHUP           re-read the config (a bad one is logged, the old kept)
--   SIGUSR1          tick now
--
-- Scheduling: after a success the next tick is interval + a random part of
-- jitter; after a failure backoff.initial doubling per failure up to
-- backoff.max (plus jitter), reset by a success. A drift check is due every
-- drift_interval (0: never). Its state is STATE_DIR/agent.json
-- (kedge.agent.state), its metrics kedge.agent.metrics.
local json = require "kedge.json"
local kos = require "kedge.os"
local log = require "kedge.log"
local state = require "kedge.agent.state"
local tick = require "kedge.agent.tick"

local M = {}

M.GRACE = 8        -- seconds a running pass may take to finish on SIGTERM
M.KILL_AFTER = 1.5 -- then seconds from its SIGTERM to SIGKILL
M.CHILD_OUTPUT = 1 << 20

local Agent = {}
Agent.__index = Agent

local function iso(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", math.floor(t)) end

local function my_pid()
  local f = io.open("/proc/self/stat", "r")
  local pid = f and tonumber(f:read("a"):match("^(%d+)"))
  if f then f:close() end
  return pid
end

local function hostname()
  local f = io.open("/proc/sys/kernel/hostname", "r")
  local h = f and f:read("l") or "node"
  if f then f:close() end
  return h
end

-- opts: {config = cfg (kedge.agent.config's), reload = function() -> cfg | nil, err}
function M.new(opts)
  local cfg = opts.config
  local prev = state.read(cfg.state_dir) or {}
  local a = setmetatable({cfg = cfg, reload_fn = opts.reload, children = {},
    holder = hostname() .. "-" .. tostring(my_pid()),
    next_tick = kos.monotonic(), next_drift = nil, leader = false, stopping = false,
    st = {pid = nil, started = iso(kos.now()), config = cfg.source, site = cfg.site,
      commit = prev.commit, passes = prev.passes or {}, drift_corrections = prev.drift_corrections or 0,
      sync_failures = prev.sync_failures or 0, consecutive_failures = prev.consecutive_failures or 0,
      last_pass = prev.last_pass, last_success = prev.last_success, last_tick = prev.last_tick,
      held = prev.held, wake = prev.wake, ticks = 0}},
    Agent)
  a.hist = prev.histogram
  -- the drift clock survives restarts (agent.json's last_drift), so an
  -- agent restarted often, or run with --once from cron, still checks
  a.st.last_drift = prev.last_drift or kos.now()
  if cfg.drift_interval > 0 then
    local since = kos.now() - a.st.last_drift
    a.next_drift = kos.monotonic() + math.max(0, cfg.drift_interval - since)
  end
  return a
end

function Agent:jitter()
  local j = self.cfg.jitter or 0
  return j > 0 and math.random() * j or 0
end

function Agent:backoff()
  local b = self.cfg.backoff
  local n = math.max(1, self.st.consecutive_failures)
  return math.min(b.initial * 2 ^ (n - 1), b.max) + self:jitter()
end

-- The metrics' view of the agent's state.
function Agent:metrics_state()
  local rec = state.site_record(self.cfg.state_dir, self.cfg.site) or {}
  local bundles = {}
  for name, b in pairs(rec.bundles or {}) do
    bundles[#bundles + 1] = {bundle = name, chart = b.chart, version = b.version, commit = b.commit}
  end
  table.sort(bundles, function(x, y) return x.bundle < y.bundle end)
  return {up = true, passes = self.st.passes, last_pass = self.st.last_pass and self.st.last_pass.unix,
    last_success = self.st.last_success and self.st.last_success.unix, histogram = self.hist,
    bundles = bundles, drift_corrections = self.st.drift_corrections,
    outbox_pending = state.outbox_pending(self.cfg.state_dir), sync_failures = self.st.sync_failures,
    consecutive_failures = self.st.consecutive_failures,
    next_tick = kos.now() + math.max(0, self.next_tick - kos.monotonic())}
end

function Agent:save()
  local st = self.st
  st.pid = my_pid()
  st.next_tick = iso(kos.now() + math.max(0, self.next_tick - kos.monotonic()))
  st.histogram = self.hist
  if self.cfg.leader_election then st.leader = self.leader == true else st.leader = nil end
  local ok, err = state.write(self.cfg.state_dir, st)
  if not ok then log.error("agent: cannot write its state", {error = err}) end
  self:write_metrics()
end

function Agent:write_metrics()
  local m = self.cfg.metrics or {}
  if not m.textfile then return end
  local metrics = require "kedge.agent.metrics"
  local ms = self:metrics_state()
  local ok, err = metrics.write_textfile(m.textfile, metrics.render(ms))
  if not ok then log.error("agent: cannot write the metrics textfile", {file = m.textfile, error = err}) end
end

-- ---- children: ticks and lease renewals ----

-- Why a pass is due for the release policy (nil: it is not): the time
-- the last pass's gates asked for came (its why: "held", "soak"), or a
-- window held a bundle and ignore-windows is on now.
function Agent:wake_due()
  local w = self.st.wake
  if type(w) == "table" and type(w.at) == "number" and kos.now() >= w.at then return tostring(w.why) end
  for _, h in ipairs(self.cfg.ignore_windows and self.st.held or {}) do
    if h.gate == "window" then return "held" end
  end
  return nil
end

-- Starts a child for op (nil: a tick; "renew", "release": the lease).
function Agent:spawn(op)
  local req = {config = self.cfg, op = op, holder = self.holder,
    last_failed = self.st.consecutive_failures > 0 or nil,
    undelivered = (self.st.last_pass or {}).result == "undelivered" or nil,
    drift_due = not op and self.next_drift and kos.monotonic() >= self.next_drift or nil,
    wake_due = not op and self:wake_due() or nil}
  -- a binary replaced in place (an upgrade) reads "PATH (deleted)": the
  -- next tick runs the new one at the same path
  local exe = kos.exe():gsub(" %(deleted%)$", "")
  local child, err = kos.spawn({exe, "agent", "--tick-child"}, {stdout = "pipe", setsid = true,
    env = {[tick.ENV] = json.encode(req)}})
  if not child then
    log.error("agent: cannot start a tick", {error = err})
    if not op then
      -- counted and backed off like a failed tick, never retried in a spin
      self.st.consecutive_failures = self.st.consecutive_failures + 1
      self.next_tick = kos.monotonic() + self:backoff()
      self:save()
    end
    return nil
  end
  self.children[child.pid] = {child = child, op = op or "tick", req = req, out = {},
    started = kos.monotonic()}
  if not op then self.tick_pid = child.pid end
  return child
end

-- What a child answered, once it ended.
local function answer_of(c, status)
  local text = table.concat(c.out)
  local line = text:match("([^\n]*)\n?$") or ""
  local okd, ans = pcall(json.decode, line)
  if okd and type(ans) == "table" then return ans end
  return {result = "failed", error = string.format("agent tick ended (%s) without an answer",
    status.signal and status.signal ~= 0 and ("signal " .. status.signal) or ("exit " .. tostring(status.status)))}
end

function Agent:count(result)
  self.st.passes[result] = (self.st.passes[result] or 0) + 1
end

-- A tick's answer: counters, the schedule, agent.json and the metrics.
function Agent:tick_done(c, ans, status)
  local now = kos.now()
  self.tick_pid = nil
  self.st.ticks = (self.st.ticks or 0) + 1
  self.last_exit = status.signal and status.signal ~= 0 and 1 or status.status
  self.st.last_tick = {at = iso(now), result = ans.result, commit = ans.commit, ran = ans.ran,
    reasons = ans.reasons, error = ans.error}
  if ans.leader ~= nil then self.leader = ans.leader end
  if ans.commit and not ans.sync_failed then self.st.commit = ans.commit end
  local failed = ans.result == "failed" or ans.result == "sync-failed" or
    (status.status ~= 0 and ans.result ~= "undelivered")
  if ans.sync_failed then self.st.sync_failures = self.st.sync_failures + 1 end
  if ans.ran then
    self:count(ans.result)
    self.st.last_pass = {at = iso(now), unix = now, result = ans.result, code = ans.code,
      duration = ans.duration, report = ans.report, commit = ans.commit, step = ans.step,
      error = ans.error}
    if ans.duration then self:observe(ans.duration) end
    self.st.held, self.st.wake = ans.held, ans.wake
    self.st.drift_corrections = self.st.drift_corrections + (ans.drift_corrections or 0)
    if not failed then self.st.last_success = {at = iso(now), unix = now, commit = ans.commit} end
  elseif ans.applied and (self.st.last_success or {}).commit ~= ans.applied then
    -- state.json has a good pass the agent did not see end (it was killed
    -- after the record step): agent.json and the metrics follow the state,
    -- dated when the agent learned of it
    self.st.last_success = {at = iso(now), unix = now, commit = ans.applied}
  end
  if c.req.drift_due and not failed then
    self.st.last_drift = now
    self.next_drift = kos.monotonic() + self.cfg.drift_interval
  end
  if failed then
    self.st.consecutive_failures = self.st.consecutive_failures + 1
    self.next_tick = kos.monotonic() + self:backoff()
    log.error("agent: tick failed", {step = ans.step, error = ans.error,
      retry_in = string.format("%.0fs", self.next_tick - kos.monotonic())})
  else
    self.st.consecutive_failures = 0
    self.next_tick = kos.monotonic() + self.cfg.interval + self:jitter()
    local w = self.st.wake
    if type(w) == "table" and type(w.at) == "number" then
      -- a hold that ends, or a smoke rerun, before the next tick
      self.next_tick = math.min(self.next_tick, kos.monotonic() + math.max(0, w.at - now) + 1)
    end
    log.info("agent: tick " .. tostring(ans.result), {commit = ans.commit,
      next_in = string.format("%.0fs", self.next_tick - kos.monotonic())})
  end
  self:save()
  self:notify("STATUS=" .. self:status_line())
end

function Agent:status_line()
  local lt = self.st.last_tick or {}
  return string.format("%s at %s, commit %s", tostring(lt.result or "no tick yet"),
    tostring(lt.at or "-"), tostring(self.st.commit or "-"):sub(1, 12))
end

function Agent:observe(seconds)
  local metrics = require "kedge.agent.metrics"
  self.hist = self.hist or {}
  metrics.observe(self.hist, seconds)
end

function Agent:lease_done(c, ans)
  if c.op == "renew" then
    local was = self.leader
    self.leader = ans.leader == true
    if was and not self.leader then
      log.warn("agent: lost the lease", {holder = ans.holder, error = ans.error})
      -- another node may take over once it expires: the pass stops first
      local t = self.tick_pid and self.children[self.tick_pid]
      if t then t.child:kill("TERM") end
    end
  end
end

-- Reads what children wrote and reaps those that ended.
function Agent:reap()
  for pid, c in pairs(self.children) do
    while true do
      local chunk = c.child:read(65536)
      if not chunk or chunk == "" then break end
      if #table.concat(c.out) < M.CHILD_OUTPUT then c.out[#c.out + 1] = chunk end
    end
    local status = c.child:wait(false)
    if status then
      local rest = c.child:read(65536)
      while rest and rest ~= "" do
        c.out[#c.out + 1] = rest
        rest = c.child:read(65536)
      end
      self.children[pid] = nil
      local ans = answer_of(c, status)
      if c.op == "tick" then self:tick_done(c, ans, status) else self:lease_done(c, ans) end
    end
  end
end

-- ---- systemd, metrics over HTTP, signals ----

function Agent:notify(msg)
  local ok, err = kos.notify(msg)
  if ok == nil then log.debug("agent: sd_notify failed", {error = err}) end
end

-- WATCHDOG_USEC (set by systemd with WatchdogSec=): ping twice per period.
local function watchdog_period()
  local us = tonumber(os.getenv("WATCHDOG_USEC") or "")
  if not us or us <= 0 then return nil end
  return us / 2e6
end

function Agent:open_listener()
  local l = (self.cfg.metrics or {}).listen
  if not l or not l.port then return true end
  local lis, err = kos.listen(l.host or "127.0.0.1", l.port)
  if not lis then return nil, "metrics listen " .. tostring(l.host) .. ":" .. l.port .. ": " .. tostring(err) end
  self.listener = lis
  log.info("agent: metrics on http://" .. (l.host or "127.0.0.1") .. ":" .. lis:port() .. "/metrics")
  return true
end

-- One metrics request at a time, each bounded by a short timeout, so a
-- slow client cannot stall the loop for long.
function Agent:serve()
  local conn = self.listener:accept()
  if not conn then return end
  local head = conn:read_request(8192, 2)
  if head then
    local metrics = require "kedge.agent.metrics"
    conn:write(metrics.http_response(head, metrics.render(self:metrics_state())), 2)
  end
  conn:close()
end

function Agent:reload()
  local cfg, err = self.reload_fn()
  if not cfg then
    log.error("agent: the new config is not valid; keeping the old one", {error = err})
    return
  end
  local old = self.cfg
  self.cfg = cfg
  if (cfg.metrics.listen or {}).port ~= (old.metrics.listen or {}).port then
    if self.listener then self.listener:close(); self.listener = nil end
    local ok, lerr = self:open_listener()
    if not ok then log.error("agent: " .. lerr) end
  end
  log.info("agent: config reloaded", {config = cfg.source})
  self.next_tick = kos.monotonic()
end

function Agent:on_signals(sig)
  for _, name in ipairs(sig:read()) do
    if name == "TERM" or name == "INT" then
      if not self.stopping then log.info("agent: stopping (SIG" .. name .. ")") end
      self.stopping = true
    elseif name == "HUP" then
      self:reload()
    elseif name == "USR1" then
      log.info("agent: tick now (SIGUSR1)")
      self.next_tick = kos.monotonic()
    end
  end
end

-- Stop: the tick in flight gets GRACE seconds, then SIGTERM, then SIGKILL;
-- a held lease is released so another node takes over at once.
function Agent:stop(sig)
  self:notify("STOPPING=1")
  local deadline = kos.monotonic() + M.GRACE
  local termed
  while next(self.children) do
    local now = kos.monotonic()
    if now >= deadline then
      for _, c in pairs(self.children) do c.child:kill(termed and "KILL" or "TERM") end
      if termed then break end
      termed, deadline = true, now + M.KILL_AFTER
    end
    local fds = {sig:fd()}
    for _, c in pairs(self.children) do fds[#fds + 1] = c.child:stdout_fd() end
    kos.poll(fds, 0.1)
    sig:read()
    self:reap()
  end
  for _, c in pairs(self.children) do c.child:wait(true) end
  self.children = {}
  if self.cfg.leader_election and self.leader then
    local c = self:spawn("release")
    if c then
      local t = kos.monotonic() + 3
      while self.children[c.pid] and kos.monotonic() < t do
        kos.poll({c:stdout_fd()}, 0.1)
        self:reap()
      end
      if self.children[c.pid] then c:kill("KILL"); c:wait(true) end
    end
    self.leader = false
  end
  self:save()
  log.info("agent: stopped")
end

-- ---- the loop ----

-- The agent's signals, taken once per process (a signalfd).
function M.signals()
  M.sig = M.sig or kos.signals{"TERM", "INT", "HUP", "USR1", "CHLD"}
  return M.sig
end

-- With no usable config at start, the agent waits for one instead of
-- exiting: it retries with backoff (1 s doubling to 5 min) and at once on
-- SIGHUP. Returns the config, or nil, "stopped" on SIGTERM/SIGINT.
function M.wait_config(load)
  local sig = M.signals()
  local delay = 1
  while true do
    kos.poll({sig:fd()}, delay)
    for _, name in ipairs(sig:read()) do
      if name == "TERM" or name == "INT" then return nil, "stopped" end
      if name == "HUP" then delay = 0 end
    end
    local cfg, err = load()
    if cfg then
      log.info("agent: config is valid now", {config = cfg.source})
      return cfg
    end
    delay = math.min(math.max(delay, 0.5) * 2, 300)
    log.error("agent: no usable config; retrying in " .. math.floor(delay) .. "s", {error = err})
  end
end

-- When the loop must wake next (seconds from now), for the next tick, a
-- lease renewal or the watchdog; nil: only for an event.
function Agent:timeout(wd, next_wd, next_renew)
  local now = kos.monotonic()
  local t = self.tick_pid and math.huge or self.next_tick - now
  if wd then t = math.min(t, next_wd - now) end
  if next_renew then t = math.min(t, next_renew - now) end
  if t == math.huge then return -1 end
  return math.max(0, t)
end

function Agent:fds(sig)
  local fds = {sig:fd()}
  if self.listener then fds[#fds + 1] = self.listener:fd() end
  for _, c in pairs(self.children) do fds[#fds + 1] = c.child:stdout_fd() end
  return fds
end

-- Runs until SIGTERM/SIGINT (or, with once, until the first tick ended).
function Agent:run(once)
  local sig = M.signals()
  local ok, err = self:open_listener()
  if not ok then return nil, err end
  self:save()
  self:notify("READY=1")
  self:notify("STATUS=started, first tick now")
  local wd = watchdog_period()
  local next_wd = kos.monotonic()
  local next_renew
  local ticks = 0
  while not self.stopping do
    local now = kos.monotonic()
    if wd and now >= next_wd then
      self:notify("WATCHDOG=1")
      next_wd = now + wd
    end
    local le = self.cfg.leader_election
    -- a lease is renewed while this node leads and while a tick runs (its
    -- pass may outlast the lease; renew never takes it from another)
    next_renew = le and (self.leader or self.tick_pid) and (next_renew or now + le.lease_duration / 3) or nil
    if next_renew and now >= next_renew then
      self:spawn("renew")
      next_renew = now + le.lease_duration / 3
    end
    if not self.tick_pid and now >= self.next_tick then
      if once and ticks > 0 then break end
      ticks = ticks + 1
      self:spawn()
    end
    local ready = kos.poll(self:fds(sig), self:timeout(wd, next_wd, next_renew))
    self:on_signals(sig)
    for _, fd in ipairs(ready) do
      if self.listener and fd == self.listener:fd() then self:serve() end
    end
    self:reap()
    if once and ticks > 0 and not self.tick_pid then break end
  end
  self:stop(sig)
  return true
end

-- The exit code of `kedge agent --once`: the tick's.
function Agent:once_code()
  return self.last_exit or 1
end

return M

-- kedge.agent.tick: one tick of the agent, in the child process the
-- resident agent starts for it (so that what a pass allocates goes back to
-- the system when the child ends). The parent hands over the config and
-- what it knows as JSON in $KEDGE_AGENT_TICK; the child answers with one
-- JSON object on stdout:
--   {commit=, ran=bool, reasons={...}, result=, code=, duration=, report=,
--    error=, step=, drift_corrections=, sync_failed=bool, busy=bool,
--    leader=bool|nil, outbox_pending=, held={{bundle=, gate=, reason=,
--    until=}}, wake={at=, why=, bundle=}}
-- wake is when the pass's gates want the next pass (kedge.gates: the
-- earliest hold that ends, a soak's next smoke rerun).
-- A tick first asks the remote for the ref (one ref advertisement, no
-- fetch); the pass runs only when the commit moved, the last pass failed,
-- a report waits in the outbox, or a drift check is due.
local git = require "kedge.git"
local json = require "kedge.json"
local kos = require "kedge.os"
local log = require "kedge.log"
local state = require "kedge.agent.state"

local M = {}

M.ENV = "KEDGE_AGENT_TICK"

local function git_opts(cfg)
  local g = {}
  for k, v in pairs(cfg.git or {}) do g[k] = v end
  g.repo, g.ref, g.state = cfg.repo, cfg.ref, cfg.state_dir
  g.token_env, g.password_env = "KEDGE_GIT_TOKEN", "KEDGE_GIT_PASSWORD"
  return g
end

-- Why a pass must run now (empty: it need not). What counts is the last
-- pass state.json recorded, not what the state dir serves: a pass killed
-- after its sync but before its record runs again.
local function reasons_for(req, head, cfg)
  local r = {}
  local last = (state.site_record(cfg.state_dir, cfg.site) or {}).last_pass or {}
  if last.commit ~= head.commit then r[#r + 1] = "commit"
  elseif last.result ~= "success" or req.last_failed then r[#r + 1] = "retry" end
  -- reports wait for a destination that failed (a site without report
  -- destinations keeps its outbox, as kedge apply does: nothing to retry)
  if req.undelivered and state.outbox_pending(cfg.state_dir) > 0 then r[#r + 1] = "outbox" end
  if req.drift_due then r[#r + 1] = "drift" end
  if req.wake_due then r[#r + 1] = req.wake_due end
  return r, last
end

local function run_pass(cfg, req, out)
  local pass = require "kedge.pass"
  local P = pass.new{repo = cfg.repo, ref = cfg.ref, state_dir = cfg.state_dir, site = cfg.site,
    kubeconfig = cfg.kubeconfig, context = cfg.context, git = cfg.git, mode = "apply",
    deliver = true, lock_timeout = 0, narrow = true, drift = req.drift_due or nil, wait = cfg.wait,
    identity = cfg.identity, identity_hint = "identity: in " .. tostring(cfg.source),
    ignore_windows = cfg.ignore_windows,
    allow_downgrade = cfg.allow_downgrade,
    registry = {config = cfg.registry_config, ca_file = cfg.registry_ca, insecure = cfg.insecure_registry},
    containerd_socket = cfg.containerd_socket, pack = cfg.pack,
    -- in the report: how often this site reports (the fleet view's stale bound)
    agent = {interval = cfg.interval, drift_interval = cfg.drift_interval}}
  local t0 = kos.monotonic()
  out.code = pass.run(P)
  out.duration = kos.monotonic() - t0
  out.ran = true
  out.commit = P.commit and P.commit.id or out.commit
  out.report = P.report_obj and P.report_obj.id or nil
  out.drift_corrections = P.drift_corrections or 0
  -- what the release policy holds (for kedge status), and when its gates
  -- want the next pass (the agent runs one then, even with nothing new in
  -- the repo)
  for _, bd in ipairs(P.held or {}) do
    local h = P.results[bd.name].held
    out.held = out.held or {}
    out.held[#out.held + 1] = {bundle = bd.name, gate = h.gate, reason = h.reason, ["until"] = h["until"]}
  end
  out.wake = P.wake
  if P.failure then
    out.step, out.error = P.failure.step, P.failure.message
    out.busy = P.failure.step == "lock"
    out.sync_failed = P.failure.step == "sync"
    out.result = out.busy and "busy" or "failed"
  else
    out.result = P.undelivered and "undelivered" or "success"
    if P.undelivered then out.error = "report not delivered (kept in the outbox): " .. P.undelivered end
  end
end

-- With leader election, the site's Lease: acquire (a tick), renew (the
-- parent asks every third of the lease's duration while it leads) or
-- release (on SIGTERM). Fills out.leader; false, or nil when it failed.
local function lease_op(req, out)
  local cfg = req.config
  local le = cfg.leader_election
  local c, err = require("kedge.kube").connect{kubeconfig = cfg.kubeconfig, context = cfg.context}
  if not c then
    out.result, out.error, out.step = "failed", err, "lease"
    return nil
  end
  local l = require("kedge.agent.lease").new{client = c, namespace = le.namespace, name = le.name,
    holder = req.holder, duration = le.lease_duration}
  local got, info
  if req.op == "release" then got, info = l:release()
  elseif req.op == "renew" then got, info = l:renew()
  else got, info = l:acquire() end
  c:close()
  if got == nil then
    out.result, out.error, out.step = "failed", tostring(info), "lease"
    return nil
  end
  out.leader = req.op ~= "release" and got or false
  if not got and type(info) == "table" then out.holder = info.holder end
  return got
end

-- The tick itself: fills out; returns the child's exit code.
function M.run(req, out)
  local cfg = req.config
  if cfg.leader_election then
    local got = lease_op(req, out)
    if got == nil then return 1 end
    if req.op then
      out.result = req.op
      return 0
    end
    if not got then
      out.result = "standby"
      return 0
    end
  end
  local head, err = git.remote_head(git_opts(cfg))
  if not head then
    out.sync_failed, out.result, out.error, out.step = true, "sync-failed", err, "sync"
    return 1
  end
  out.commit = head.commit
  local reasons, last = reasons_for(req, head, cfg)
  out.reasons = reasons
  if #reasons == 0 then
    out.ran, out.result = false, "unchanged"
    -- what state.json records as applied: a pass killed after its record
    -- step never told the agent, which learns it here
    if last.result == "success" then out.applied = last.commit end
    return 0
  end
  log.info("agent: pass for " .. table.concat(reasons, ", "), {site = cfg.site, commit = head.commit})
  run_pass(cfg, req, out)
  out.outbox_pending = state.outbox_pending(cfg.state_dir)
  return out.code or 0
end

-- The child's entry point: reads the request, runs the tick, writes the
-- answer; a Lua error is an answer too, so the parent always learns why.
function M.main()
  local text = os.getenv(M.ENV)
  local out = {ran = false}
  local okd, req = pcall(json.decode, text or "")
  local code
  if not okd or type(req) ~= "table" or type(req.config) ~= "table" then
    out.result, out.error = "failed", "agent tick: no request in $" .. M.ENV
    code = 1
  else
    local okr, c = xpcall(M.run, debug.traceback, req, out)
    if okr then code = c else
      out.result, out.error, code = "failed", "agent tick: " .. tostring(c), 1
    end
  end
  io.stdout:write(json.encode(out), "\n")
  io.stdout:flush()
  return code
end

return M

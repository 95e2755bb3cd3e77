-- kedge.passcli: `kedge plan`, `kedge apply`, `kedge budget` and `kedge
-- report list|show|send`: handlers of the command table (kedge.cli), called
-- with the parsed options; they return the exit code (kedge.pass.EXIT).
local pass = require "kedge.pass"
local core = require "kedge.core"
local kos = require "kedge.os"
local log = require "kedge.log"
local synccli = require "kedge.cli.sync"

local M = {}
local EXIT = pass.EXIT

-- The command line's two complaints, for every command's handler (cmd:
-- the command's name): a usage error (exit 2) and a failure (exit 1).
function M.usage(cmd, msg)
  io.stderr:write(string.format("kedge: %s (see 'kedge help %s')\n", msg, cmd))
  return EXIT.usage
end

function M.fail(cmd, msg)
  io.stderr:write(string.format("kedge %s: %s\n", cmd, msg))
  return EXIT.failed
end
local usage, fail = M.usage, M.fail

-- The site when --site is not given: $KEDGE_SITE, else the host name up to
-- its first dot (an edge node usually is named after its site).
function M.default_site()
  local s = os.getenv("KEDGE_SITE")
  if s and s ~= "" then return s end
  local f = io.open("/proc/sys/kernel/hostname", "r") or io.open("/etc/hostname", "r")
  if not f then return nil end
  local h = f:read("l")
  f:close()
  return h and h:match("^([^.%s]+)")
end

-- What the command table parsed, made ready for the pass: the git
-- options, the site default (unless any_site: report collect serves
-- every site) and the progress lines.
local function prepare(cmd, o, any_site)
  local ok, err = synccli.check(o)
  if not ok then return nil, err end
  o.site = o.site or (not any_site and M.default_site() or nil)
  if not o.site and not any_site then return nil, "give the site with --site NAME (or $KEDGE_SITE)" end
  o.git = synccli.git_opts(o)
  local tty = core.isatty(2)
  if o.progress ~= nil then tty = o.progress end
  if tty then
    o.progress_fn = function(step, msg)
      io.stderr:write(string.format("kedge %s: %-7s %s\n", cmd, step, msg))
      io.stderr:flush()
    end
  end
  return o
end

-- The --registry-* flags as kedge.charts takes them.
function M.registry_opts(o)
  return {config = o.registry_config, ca_file = o.registry_ca, insecure = o.insecure_registry}
end

-- narrow: plan and apply narrow the pass once the repo is loaded (the
-- report commands write where a pass does not: a stick's markers).
local function new_pass(o, mode, narrow)
  return pass.new{repo = o.repo, ref = o.ref or "main", state_dir = o.state_dir, site = o.site,
    kubeconfig = o.kubeconfig, context = o.context, timeout = o.timeout, wait = o.wait,
    git = o.git, mode = mode, progress = o.progress_fn, deliver = not o.no_deliver,
    tree = o.tree, tree_label = o.tree_label, offline = o.offline, lock_timeout = o.lock_timeout,
    identity = o.identity, ignore_windows = o.ignore_windows, allow_downgrade = o.allow_downgrade,
    registry = M.registry_opts(o), containerd_socket = o.containerd_socket, pack = o.pack,
    narrow = narrow}
end

local function print_failure(cmd, P)
  if P.failure then fail(cmd, P.failure.step .. ": " .. P.failure.message) end
  if P.undelivered then fail(cmd, "report not delivered (kept in the outbox): " .. P.undelivered) end
end

function M.plan(o)
  local err
  o, err = prepare("plan", o)
  if not o then return usage("plan", err) end
  local P = new_pass(o, "plan", true)
  local code = pass.run(P)
  if P.budget_table and P.failure and P.failure.code == EXIT.budget then
    -- the table is in the failure message
  elseif P.plans then
    local kube = require "kedge.kube"
    for _, name in ipairs(P.bundle_names or {}) do
      local res = P.plans[name]
      for _, ch in ipairs(res and res.changes or {}) do
        if ch.action ~= "unchanged" then
          print(string.format("%s %s (bundle %s)", ch.action == "create" and "+" or "~",
            kube.describe(ch.ref), name))
          for _, l in ipairs(ch.diff) do print("    " .. l) end
        end
      end
      for _, e in ipairs(res and res.prune or {}) do
        print("- " .. kube.describe(e) .. " (bundle " .. name .. ": pruned, no longer rendered)")
      end
    end
    for _, name in ipairs(P.bundle_names or {}) do
      for _, ov in ipairs(P.results[name] and P.results[name].overridden or {}) do
        print(string.format("! bundle %s let through by %s: %s", name, ov.by, ov.reason))
      end
    end
    for _, bd in ipairs(P.held) do
      local h = P.results[bd.name].held
      print(string.format("= bundle %s held (%s): %s%s", bd.name, h.gate, h.reason,
        h["until"] and (" until " .. os.date("!%Y-%m-%dT%H:%M:%SZ", h["until"])) or ""))
    end
    print(string.format("plan: %d change%s in %d bundle%s", P.changes, P.changes == 1 and "" or "s",
      #(P.bundle_names or {}), #(P.bundle_names or {}) == 1 and "" or "s"))
  end
  print_failure("plan", P)
  return code
end

function M.apply(o)
  local err
  o, err = prepare("apply", o)
  if not o then return usage("apply", err) end
  local P = new_pass(o, "apply", true)
  local code = pass.run(P)
  print_failure("apply", P)
  local r = P.report_obj
  print(string.format("pass %s: %s%s", P.failure and "failed" or "succeeded",
    P.commit and P.commit.id and P.commit.id:sub(1, 12) or "-",
    r and r.id and (", report " .. tostring(r.id)) or ""))
  return code
end

-- kedge budget: the table alone, from a plain checkout (--repo DIR), a
-- synced repo (--repo URL --ref REF) or the revision the state dir serves.
function M.budget(o)
  local err
  o, err = prepare("budget", o)
  if not o then return usage("budget", err) end
  o.offline = true
  if o.repo and not o.ref then
    local _, _, why = kos.read_dir(o.repo)
    if why ~= nil and why ~= "notdir" then
      fail("budget", "--repo " .. o.repo .. ": not a directory; give --ref REF to fetch a URL")
      return EXIT.failed
    end
    local site = require "kedge.site"
    o.tree = site.dir_tree(o.repo)
    o.tree_label = o.repo
    o.repo = nil
  end
  local P = new_pass(o, "plan")
  local ok = P.sync() and P.load() and P.select() and P.render()
  if ok then P.budget() end
  if P.budget_table then print(P.budget_table) end
  if P.failure and P.failure.code == EXIT.budget then
    fail("budget", "the site's capacity is exceeded")
  else
    print_failure("budget", P)
  end
  return pass.exit_code(P)
end

-- kedge report list | show [ID] | send | collect DIR
function M.report(o, args)
  local sub = table.remove(args, 1)
  if sub ~= "show" and sub ~= "send" and sub ~= "list" and sub ~= "collect" then
    return usage("report", "give list, show [ID], send or collect DIR")
  end
  local err
  if sub == "collect" then
    o, err = prepare("report", o, true)
    if not o then return usage("report", err) end
    if #args ~= 1 then return usage("report", "collect takes one folder: the stick's DIR") end
    return require("kedge.cli.collect").run(o, args[1], new_pass(o, "plan"))
  end
  o, err = prepare("report", o)
  if not o then return usage("report", err) end
  o.args = #args > 0 and args or nil
  local report = require "kedge.report"
  if sub == "list" then
    if o.args then return usage("report", "list takes no argument") end
    local list, lerr = report.list(o.state_dir)
    if not list then fail("report", lerr); return EXIT.failed end
    for _, e in ipairs(list) do
      print(string.format("%s  %-14s %s  %s", e.id, tostring(e.result or e.kind),
        tostring(e.finished or e.started or ""), e.unreadable and ("(" .. e.unreadable .. ")") or
        e.pending and "pending" or ("delivered to " .. table.concat(e.delivered or {}, ", "))))
    end
    return EXIT.ok
  end
  if sub == "show" then
    if o.args and #o.args > 1 then return usage("report", "show takes one report id") end
    local doc, text = report.show(o.state_dir, o.args and o.args[1])
    if not doc then fail("report", text); return EXIT.failed end
    io.write(text, text:sub(-1) == "\n" and "" or "\n")
    return EXIT.ok
  end
  if o.args then return usage("report", "send takes no argument") end
  -- send: the destinations are the site's, from the served revision
  local P = new_pass(o, "plan")
  if not (P.sync() and P.load()) then
    print_failure("report", P)
    return EXIT.failed
  end
  local dests = P.site.report or {}
  if #dests == 0 then
    fail("report", "site " .. o.site .. " lists no report destination (report: in sites/" ..
      o.site .. ".yaml)")
    return EXIT.failed
  end
  local sum, derr = report.deliver(o.state_dir, dests, {git = pass.git_opts(o)})
  if not sum then fail("report", derr); return EXIT.undelivered end
  print(string.format("%d delivered, %d pending", sum.delivered or 0, sum.pending or 0))
  if #(sum.failed or {}) > 0 then
    for _, f in ipairs(sum.failed) do
      fail("report", string.format("%s to %s: %s", f.id, f.destination, f.error))
    end
    return EXIT.undelivered
  end
  log.debug("outbox drained")
  return EXIT.ok
end

return M

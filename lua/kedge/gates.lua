-- kedge.gates: the release policy's gates, asked in the select step of a
-- pass whether each selected bundle may move this pass. A gate that says
-- no holds the bundle: it keeps running what it runs now (its last good
-- revision), and is not rendered, applied, pruned, drift-corrected or
-- recorded; the report and the plan say which gate held it, why, and
-- until when it holds.
--
-- A gate is {name =, check = function(ctx, bd)}: check returns nil to let
-- the bundle through, or {reason = TEXT, ["until"] = EPOCH|nil} to hold
-- it (or nil, nil, ERR: the gate could not decide, the pass fails with
-- ERR naming the gate). ctx is the pass's view for gates:
--   site, site_name, repo (site.load's), commit ({id, time}), good (the
--   site's bundles in state.json: name -> {commit, version, ...}),
--   opts (the pass's options: allow_downgrade, ignore_windows, ...),
--   state_dir, now (epoch seconds), result_of (the pass's: a gate an
--   option overrides, as --ignore-windows does the window gate, lets the
--   bundle through and adds {gate =, reason =, by =} to its result's
--   overridden list, which the plan and the report show).
-- Gates run in the order of M.LIST; the first that holds a bundle wins.
-- A gate with from_repo = true decides from the repo and the clock alone
-- when ctx has no state_dir (kedge check asks those: M.ask_repo).
-- Each lives in its own module, kedge.gates.NAME, returning the gate.
--
-- When the next pass is due. A hold's until is the moment its gate lets
-- the bundle through, so a pass is due then; a gate that lets a bundle
-- through may want a pass at a given time too (a soaking wave's smoke
-- reruns: M.wake). ctx.wake is the earliest of them all, {at = EPOCH,
-- why = "held"|..., bundle =}: the pass hands it on (P.wake) and the agent
-- runs its next pass then, even when the repo did not move. One path for
-- every gate: a gate only says until when, never schedules anything.
local M = {}

-- The gates' modules, in the order they are asked.
M.ORDER = {"pause", "window", "downgrade", "wave"}

M.LIST = {}

-- Adds a gate at the end of M.LIST (one per name).
function M.add(gate)
  assert(type(gate) == "table" and type(gate.name) == "string" and type(gate.check) == "function",
    "gates.add{name = ..., check = function(ctx, bundle) ... end}")
  for _, g in ipairs(M.LIST) do
    assert(g.name ~= gate.name, "gates.add: a gate " .. gate.name .. " is there already")
  end
  M.LIST[#M.LIST + 1] = gate
end

-- Asks for a pass at time at (epoch seconds), for why (a word the agent
-- logs: "held", "soak") and bundle; ctx.wake keeps the earliest.
function M.wake(ctx, at, why, bundle)
  if type(at) ~= "number" then return end
  if not ctx.wake or at < ctx.wake.at then ctx.wake = {at = at, why = why, bundle = bundle} end
end

-- Asks every gate about bd: nil (it moves), or {gate =, reason =,
-- ["until"] =}; nil, nil, err when a gate failed. A hold with an until
-- asks for a pass then (M.wake).
function M.ask(ctx, bd)
  for _, g in ipairs(M.LIST) do
    local held, err = g.check(ctx, bd)
    if err then return nil, nil, "gate " .. g.name .. ": " .. tostring(err) end
    if held then
      M.wake(ctx, held["until"], "held", bd.name)
      return {gate = g.name, reason = tostring(held.reason), ["until"] = held["until"]}
    end
  end
  return nil
end

-- What the gates that decide from the repo and the clock would say of bd
-- at ctx.now (no state directory, no peers' reports): kedge check's view.
function M.ask_repo(ctx, bd)
  for _, g in ipairs(M.LIST) do
    if g.from_repo then
      local held, err = g.check(ctx, bd)
      if err then return nil, "gate " .. g.name .. ": " .. tostring(err) end
      if held then return {gate = g.name, reason = tostring(held.reason), ["until"] = held["until"]} end
    end
  end
  return nil
end

for _, name in ipairs(M.ORDER) do M.add(require("kedge.gates." .. name)) end

return M

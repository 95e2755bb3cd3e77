-- kedge.gates.downgrade: a bundle never moves to a lower chart version than
-- its last good one (state.json) unless it may: allowDowngrade: true on the
-- bundle (or, when the bundle does not say, on the site), or the pass's
-- allow_downgrade (--allow-downgrade, the agent's allow-downgrade: true).
-- Versions compare by Helm's rules (kedge.semver: prereleases ordered,
-- build metadata ignored); the version is read from the chart's Chart.yaml
-- before anything renders. Another chart in the bundle's place (a new
-- name) is not a downgrade of the old one.
local semver = require "kedge.semver"
local site = require "kedge.site"

local M = {name = "downgrade"}

local function allowed(ctx, bd)
  if ctx.opts and ctx.opts.allow_downgrade then return true end
  if bd.allowDowngrade ~= nil then return bd.allowDowngrade end
  return ctx.site and ctx.site.allowDowngrade == true
end

-- The reason a bundle is held: "chart web 2.0.1 < 2.1.0 applied; ...".
function M.reason(name, version, good)
  return string.format("chart %s %s < %s applied; set allowDowngrade to permit", name, version, good)
end

function M.check(ctx, bd)
  local good = ctx.good and ctx.good[bd.name]
  if type(good) ~= "table" or type(good.version) ~= "string" or allowed(ctx, bd) then return nil end
  local meta, err = site.chart_meta(ctx.repo.tree, bd.chart)
  if not meta then return nil, "chart " .. tostring(bd.chart) .. ": " .. tostring(err) end
  if good.chart and meta.name ~= good.chart then return nil end
  local c, cerr = semver.compare(meta.version, good.version)
  if not c then return nil, "chart " .. meta.name .. ": " .. cerr end
  if c < 0 then return {reason = M.reason(meta.name, meta.version, good.version)} end
  return nil
end

return M

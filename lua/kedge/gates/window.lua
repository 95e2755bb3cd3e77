-- kedge.gates.window: deployment windows (kedge.windows). A bundle moves
-- only at a time its own windows, its site's and kedge.yaml's all let
-- through; otherwise it is held until the next time they do (searched up
-- to KD_LIMIT_WINDOWS_SEARCH_DAYS ahead). A held bundle is held whether or
-- not its revision changed: drift corrections wait for the window too.
-- --ignore-windows (opts.ignore_windows, or ignoreWindows: in the agent's
-- config) lets every bundle through; each one a window would have held is
-- logged and noted in its result (overridden), so the report shows it.
local windows = require "kedge.windows"
local log = require "kedge.log"
local limits = require "kedge.limits"

-- The lists that apply to bd, the bundle's first.
local function lists_for(ctx, bd)
  local out = {}
  local function add(list, where)
    if list and #list > 0 then out[#out + 1] = {windows = list, where = where} end
  end
  add(bd.windows, bd.file or ("bundles/" .. bd.name .. "/bundle.yaml"))
  add(ctx.site and ctx.site.windows, ctx.site and ctx.site.file or "the site file")
  add(ctx.repo and ctx.repo.settings and ctx.repo.settings.windows, "kedge.yaml")
  return out
end

local function check(ctx, bd)
  local lists = lists_for(ctx, bd)
  if #lists == 0 then return nil end
  local now = ctx.now or os.time()
  local why = windows.blocked(lists, now)
  if not why then return nil end
  local reason = "outside its deployment windows (" .. why .. ")"
  local opens = windows.next_open(lists, now)
  if not opens then
    reason = reason .. string.format("; none opens in the next %d days", limits.windows_search_days)
  end
  if ctx.opts and ctx.opts.ignore_windows then
    log.warn("bundle " .. bd.name .. ": " .. reason .. ": going ahead (--ignore-windows)", {bundle = bd.name})
    if ctx.result_of then
      local r = ctx.result_of(bd.name)
      r.overridden = r.overridden or {}
      r.overridden[#r.overridden + 1] = {gate = "window", reason = reason, by = "--ignore-windows"}
    end
    return nil
  end
  return {reason = reason, ["until"] = opens}
end

return {name = "window", check = check, from_repo = true}

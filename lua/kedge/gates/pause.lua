-- kedge.gates.pause: a paused bundle is neither updated nor drift-corrected.
-- Pauses come from upstream (paused: true with a reason: on a bundle or a
-- site in the config repo) or from someone on site (kedge pause, kept in
-- STATE_DIR/paused.json, which kedge resume clears; kedge rollback writes
-- one too, so the agent does not roll forward again).
--
-- STATE_DIR/paused.json: {sites = {[site] = {site = PAUSE|nil,
-- bundles = {[name] = PAUSE}}}}, PAUSE = {who=, at= (ISO 8601 UTC),
-- reason=}; written atomically, one file for the sites a state directory
-- serves (as state.json).
local json = require "kedge.json"
local kos = require "kedge.os"

local M = {name = "pause", from_repo = true}

function M.path(state_dir) return state_dir .. "/paused.json" end

-- The whole file as a table ({sites = {}} when there is none), or nil, err
-- when it is there and unreadable (a pause must never be lost quietly).
function M.read(state_dir)
  local text, err = kos.read_file(M.path(state_dir))
  if not text then
    if kos.stat(M.path(state_dir)) then return nil, err end
    return {sites = {}}
  end
  local doc, derr = json.decode(text, {name = M.path(state_dir)})
  if type(doc) ~= "table" or type(doc.sites or {}) ~= "table" then
    return nil, M.path(state_dir) .. ": not a pause file (" .. tostring(derr or "not a map") ..
      "); fix or remove it, then kedge pause again"
  end
  doc.sites = doc.sites or {}
  return doc
end

-- One site's pauses: {site = PAUSE|nil, bundles = {name = PAUSE}}.
function M.of_site(doc, site)
  local s = doc.sites[site]
  if type(s) ~= "table" then s = {} end
  s.bundles = type(s.bundles) == "table" and s.bundles or {}
  return s
end

-- Who runs this command: the login name (the one sudo was run by first),
-- else the numeric user id.
function M.who()
  for _, v in ipairs{"SUDO_USER", "USER", "LOGNAME"} do
    local u = os.getenv(v)
    if u and u ~= "" then return u end
  end
  local status = kos.read_file("/proc/self/status") or ""
  return "uid " .. (status:match("\nUid:%s+(%d+)") or "?")
end

-- Pauses the site's bundle (nil: the whole site) with reason; replaces a
-- pause already there. Returns the pause, or nil, err.
function M.set(state_dir, site, bundle, reason)
  local doc, err = M.read(state_dir)
  if not doc then return nil, err end
  local s = M.of_site(doc, site)
  doc.sites[site] = s
  local p = {who = M.who(), at = os.date("!%Y-%m-%dT%H:%M:%SZ"), reason = reason}
  if bundle then s.bundles[bundle] = p else s.site = p end
  local ok, werr = kos.mkdir(state_dir)
  if ok then ok, werr = kos.write_atomic(M.path(state_dir), json.encode(doc, {indent = 2}) .. "\n", 420) end
  if not ok then return nil, werr end
  return p
end

-- Lifts the pause of the site's bundle (nil: the site's own and every
-- bundle's). Returns the list of what was lifted ("site" or bundle names),
-- or nil, err.
function M.clear(state_dir, site, bundle)
  local doc, err = M.read(state_dir)
  if not doc then return nil, err end
  local s = M.of_site(doc, site)
  local lifted = {}
  if bundle then
    if s.bundles[bundle] then lifted[1] = bundle end
    s.bundles[bundle] = nil
  else
    if s.site then lifted[1] = "site" end
    local names = {}
    for n in pairs(s.bundles) do names[#names + 1] = n end
    table.sort(names)
    for _, n in ipairs(names) do lifted[#lifted + 1] = n end
    s.site, s.bundles = nil, {}
  end
  if #lifted == 0 then return lifted end
  doc.sites[site] = (s.site or next(s.bundles)) and s or nil
  local ok, werr = kos.write_atomic(M.path(state_dir), json.encode(doc, {indent = 2}) .. "\n", 420)
  if not ok then return nil, werr end
  return lifted
end

local function local_reason(p)
  return string.format("paused on the site by %s at %s: %s", tostring(p.who), tostring(p.at),
    tostring(p.reason))
end

-- The gate: the repo's pauses first (the bundle's, then the site's), then
-- the local ones (the bundle's, then the site's). The pause file is read
-- once per pass (ctx.pauses).
function M.check(ctx, bd)
  if bd.paused then return {reason = "paused in the repo: " .. bd.reason} end
  if ctx.site and ctx.site.paused then
    return {reason = "paused in the repo: " .. ctx.site.reason .. " (site " .. ctx.site_name .. ")"}
  end
  if not ctx.state_dir then return nil end
  if not ctx.pauses then
    local doc, err = M.read(ctx.state_dir)
    if not doc then return nil, err end
    ctx.pauses = M.of_site(doc, ctx.site_name)
  end
  local p = ctx.pauses.bundles[bd.name] or ctx.pauses.site
  if p then return {reason = local_reason(p)} end
  return nil
end

return M

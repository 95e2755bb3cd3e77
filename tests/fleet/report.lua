-- Writes a kedge report as a site's pass would (kedge.report's own
-- document), for the fleet tests: kedge lua tests/fleet/report.lua SITE
-- COMMIT RESULT AGE_SECONDS [BUNDLE=VERSION[:STATUS[:ERROR]] ...]
-- [smoke:BUNDLE:TEST:STATUS[:MESSAGE] ...] (a smoke result of a bundle
-- named before it) prints the report id on the first line and its JSON
-- after it.
local report = require "kedge.report"
local site, commit, result, age = arg[1], arg[2], arg[3], tonumber(arg[4])
local at = os.time() - age
local r = report.new{site = site, repo = "https://git.example.org/sites.git", ref = "main",
  commit = commit ~= "-" and commit or nil, started = at - 5}
local by_name = {}
for i = 5, #arg do
  local sb, test, sstatus, msg = arg[i]:match("^smoke:([^:]+):([^:]+):([^:]+):?(.*)$")
  if sb then
    local b = assert(by_name[sb], "smoke for a bundle not named before it: " .. sb)
    b.smoke = b.smoke or {}
    b.smoke[#b.smoke + 1] = {name = test, kind = "http", status = sstatus, duration = 1,
      message = msg ~= "" and msg or nil}
  else
    local name, version, status, err = arg[i]:match("^([^=]+)=([^:]+):?([^:]*):?(.*)$")
    by_name[name] = report.add_bundle(r, {name = name, chart = name, version = version,
      status = status ~= "" and status or "ok", errors = err ~= "" and {err} or nil})
  end
end
r.agent = {interval = 300, drift_interval = 900}
report.finish(r, result, at)
io.write(r.id, "\n", report.json(r))

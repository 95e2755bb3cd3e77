-- Writes a kedge report as a site's pass would (kedge.report's own
-- document), for the fleet tests: kedge lua tests/fleet/report.lua SITE
-- COMMIT RESULT AGE_SECONDS [BUNDLE=VERSION[:STATUS[:ERROR]] ...]
-- prints the report id on the first line and its JSON after it.
local report = require "kedge.report"
local site, commit, result, age = arg[1], arg[2], arg[3], tonumber(arg[4])
local at = os.time() - age
local r = report.new{site = site, repo = "https://git.example.org/sites.git", ref = "main",
  commit = commit ~= "-" and commit or nil, started = at - 5}
for i = 5, #arg do
  local name, version, status, err = arg[i]:match("^([^=]+)=([^:]+):?([^:]*):?(.*)$")
  report.add_bundle(r, {name = name, chart = name, version = version,
    status = status ~= "" and status or "ok", errors = err ~= "" and {err} or nil})
end
r.agent = {interval = 300, drift_interval = 900}
report.finish(r, result, at)
io.write(r.id, "\n", report.json(r))

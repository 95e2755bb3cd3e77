-- The renders of the chart corpus's manifest (../shared/charts/manifest.json),
-- one per line: chart folder, then its values file or "-" (for
-- tests/bench/render.sh).
local json = require "kedge.json"
local path = assert(arg[1], "usage: kedge lua tests/bench/renders.lua MANIFEST")
local f = assert(io.open(path, "rb"))
local m = assert(json.decode(f:read("a"), {name = path}))
f:close()
for _, c in ipairs(m.charts) do
  for _, r in ipairs(c.renders) do
    print(c.name .. "\t" .. (type(r.values_file) == "string" and r.values_file or "-"))
  end
end

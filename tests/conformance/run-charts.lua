-- Renders every case of the chart corpus (../shared/charts/manifest.json or
-- the path given) with `kedge render` and compares it with the golden
-- output of `helm template`; prints TAP, one line per case. Lines listed as
-- volatile (random passwords, certificates, hook suffixes) only have to
-- exist; every other line must match byte for byte. Cases that fail in Helm
-- must fail the same way.
local json = require "kedge.json"

local manifest = arg[1] or "../shared/charts/manifest.json"
local kedge = os.getenv("KEDGE") or "build/kedge"
local root = manifest:match("^(.*)/[^/]*$") or "."
local only = os.getenv("CHARTS_ONLY")

local f = assert(io.open(manifest, "rb"))
local doc = assert(json.decode(f:read("a")))
f:close()

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function lines(s)
  local t = {}
  for l in (s .. "\n"):gmatch("(.-)\n") do t[#t + 1] = l end
  if s:sub(-1) == "\n" then t[#t] = nil end
  return t
end

local function read(path)
  local h = io.open(path, "rb")
  if not h then return nil end
  local s = h:read("a")
  h:close()
  return s
end

local cases = {}
for _, c in ipairs(doc.charts) do
  for _, r in ipairs(c.renders) do
    if not only or c.name:match(only) then cases[#cases + 1] = {chart = c, r = r} end
  end
end

print("1.." .. #cases)
local errf = os.tmpname()
local pass, n = 0, 0
for _, case in ipairs(cases) do
  n = n + 1
  local c, r = case.chart, case.r
  for _, k in ipairs({"values_file", "error", "golden", "volatile_lines"}) do
    if r[k] == json.null then r[k] = nil end
  end
  local dir = root .. "/" .. c.name
  local cmd = q(kedge) .. " render " .. q(r.release) .. " " .. q(dir) ..
    " --namespace " .. q(r.namespace)
  local label = c.name .. (r.values_file and (" -f " .. r.values_file) or "")
  if r.values_file then cmd = cmd .. " -f " .. q(dir .. "/" .. r.values_file) end
  local p = io.popen(cmd .. " 2>" .. q(errf), "r")
  local out = p:read("a")
  local ok, _, code = p:close()
  local stderr = read(errf) or ""
  local good, why = false, nil
  if r.error then
    local want = r.error:gsub("^Error: ", "")
    if ok then
      why = "rendered, but helm fails with: " .. want
    elseif stderr:find(want, 1, true) then
      good = true
    else
      why = "wrong error: " .. stderr
    end
  elseif not ok then
    why = "kedge render failed (" .. tostring(code) .. "): " .. stderr
  else
    local golden = read(root .. "/golden/" .. r.golden)
    local vol = {}
    for _, l in ipairs(r.volatile_lines or {}) do vol[l] = true end
    local a, b = lines(out), lines(golden)
    if #a ~= #b then
      why = ("%d lines, golden has %d"):format(#a, #b)
    end
    for i = 1, math.max(#a, #b) do
      if not vol[i] and a[i] ~= b[i] then
        why = (why and why .. "; " or "") .. ("first difference at line %d:\n  want: %s\n  got:  %s")
          :format(i, tostring(b[i]), tostring(a[i]))
        break
      end
    end
    good = why == nil
  end
  if good then
    pass = pass + 1
    print(("ok %d - %s"):format(n, label))
  else
    print(("not ok %d - %s"):format(n, label))
    print("# " .. tostring(why):sub(1, 2000):gsub("\n", "\n# "))
  end
end
os.remove(errf)
print(("# passed %d of %d"):format(pass, n))

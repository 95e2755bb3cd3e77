-- Argo CD's health script test cases (../shared/argocd-health, or the
-- folder in $KEDGE_ARGOCD_HEALTH or arg[1]): every <group>/<Kind>/
-- health_test.yaml case, its object picked from testdata/ and judged by
-- the script its own group and kind select, must give the expected status
-- and message exactly. Prints "N/TOTAL passed" and lists the misses.
local t = dofile("tests/tap.lua")
local health = require "kedge.health"
local yaml = require "kedge.yaml"
local kos = require "kedge.os"

local dir = arg and arg[1] or os.getenv("KEDGE_ARGOCD_HEALTH") or "../shared/argocd-health"
if not kos.stat(dir) then
  print("1..0 # SKIP no Argo CD health cases in " .. dir)
  return
end

-- health_test.yaml is read as Go's encoding/json reads it: keys match
-- whatever their case (two cases spell inputPath "inputpath").
local function field(tbl, name)
  for k, v in pairs(tbl) do
    if type(k) == "string" and k:lower() == name:lower() then return v end
  end
end

-- The first document holding something (one input has a leading "---").
local function first_object(text, name)
  local docs, err = yaml.decode_all(text, {name = name})
  if not docs then return nil, err end
  for _, d in ipairs(docs) do
    if type(d) == "table" then return d end
  end
  return nil, name .. ": no object"
end

local total, passed, misses, kinds = 0, 0, {}, 0
for _, group in ipairs(kos.read_dir(dir) or {}) do
  for _, kind in ipairs(kos.read_dir(dir .. "/" .. group) or {}) do
    local base = dir .. "/" .. group .. "/" .. kind
    local spec_text = kos.read_file(base .. "/health_test.yaml")
    if spec_text then
      kinds = kinds + 1
      local spec = assert(yaml.decode(spec_text, {name = base .. "/health_test.yaml"}))
      for _, case in ipairs(field(spec, "tests") or {}) do
        total = total + 1
        local want = field(case, "healthStatus") or {}
        local input = base .. "/" .. field(case, "inputPath")
        local text, err = kos.read_file(input)
        local obj
        if text then obj, err = first_object(text, input) end
        local got = obj and health.check(dir, obj)
        local ws, wm = field(want, "status"), field(want, "message") or ""
        if got and got.status == ws and got.message == wm then
          passed = passed + 1
        else
          misses[#misses + 1] = string.format("%s\n  want %s %q\n  got  %s %q", input, ws, wm,
            got and got.status or "-", got and got.message or (err or "no script"))
        end
      end
    end
  end
end

print(string.format("# %d kinds, %d/%d passed", kinds, passed, total))
print(string.format("%d/%d passed", passed, total))
t.ok(total > 0, "there are cases")
t.is(#misses, 0, "every case gives the expected status and message")
for _, m in ipairs(misses) do print("# miss: " .. m:gsub("\n", "\n#   ")) end
t.done()

-- A tiny TAP producer for Lua tests run by `kedge lua` (loaded with dofile,
-- since require only sees the embedded library).
local tap = {count = 0, failed = 0}

local function report(pass, name, diag)
  tap.count = tap.count + 1
  if not pass then tap.failed = tap.failed + 1 end
  print(string.format("%s %d - %s", pass and "ok" or "not ok", tap.count, name))
  if not pass then
    for level = 3, 6 do
      local info = debug.getinfo(level, "Sl")
      if info and info.short_src ~= "tests/tap.lua" and info.currentline > 0 then
        print(string.format("#   failed at %s:%d", info.short_src, info.currentline))
        break
      end
    end
    if diag then print("#   " .. diag:gsub("\n", "\n#   ")) end
  end
  return pass
end

function tap.ok(cond, name) return report(not not cond, name) end

function tap.is(got, want, name)
  return report(got == want, name, string.format("got:      %s (%s)\nexpected: %s (%s)",
    tostring(got), math.type(got) or type(got), tostring(want), math.type(want) or type(want)))
end

function tap.like(got, pattern, name)
  return report(type(got) == "string" and got:find(pattern) ~= nil, name,
    string.format("got:      %s\npattern:  %s", tostring(got), pattern))
end

-- Deep equality of plain tables (keys and values, math types included).
function tap.same(got, want, name)
  local function eq(a, b, path)
    if type(a) ~= type(b) or math.type(a) ~= math.type(b) then
      return false, path .. ": " .. tostring(a) .. " vs " .. tostring(b)
    end
    if type(a) ~= "table" then
      if a == b then return true end
      return false, path .. ": " .. tostring(a) .. " vs " .. tostring(b)
    end
    for k, v in pairs(a) do
      local same, where = eq(v, b[k], path .. "." .. tostring(k))
      if not same then return false, where end
    end
    for k in pairs(b) do
      if a[k] == nil then return false, path .. "." .. tostring(k) .. " missing" end
    end
    return true
  end
  local same, where = eq(got, want, "value")
  return report(same, name, where)
end

-- Calls f and checks that it raises an error matching pattern.
function tap.raises(f, pattern, name)
  local okay, err = pcall(f)
  return report(not okay and tostring(err):find(pattern) ~= nil, name,
    "result: " .. tostring(okay) .. ", " .. tostring(err))
end

function tap.done()
  print("1.." .. tap.count)
  if tap.failed > 0 then os.exit(1) end
end

return tap

-- kedge: the root of kedge's Lua library.
--
--   local kedge = require "kedge"
--   kedge.version          --> "0.1.0-dev"
--   kedge.libraries.lua    --> "5.4.4"
--   kedge.null             -- stands for YAML/JSON null inside tables
--   kedge.list({})         -- marks a table as a list, so {} encodes as []
--   kedge.is_null(v)
--   kedge.duration("1h30m") --> 5400 (seconds; "90", "90s", "2m" too; nil if not one)
local core = require "kedge.core"

-- The durations the command line takes: a number of seconds or Go-like
-- units h, m, s.
local function duration(s)
  if s:match("^%d+%.?%d*$") then return tonumber(s) end
  local total, rest = 0, s
  while rest ~= "" do
    local n, unit, tail = rest:match("^(%d+%.?%d*)([hms])(.*)$")
    if not n then return nil end
    total = total + tonumber(n) * ({h = 3600, m = 60, s = 1})[unit]
    rest = tail
  end
  return total > 0 and total or nil
end

-- Levenshtein distance, for "did you mean" hints.
local function distance(a, b)
  local prev, cur = {}, {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    cur[0] = i
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev, cur = cur, prev
  end
  return prev[#b]
end

return {
  version = core.version,
  commit = core.commit,
  libraries = core.libraries,
  null = core.null,
  list = core.list,
  is_null = core.is_null,
  duration = duration,
  edit_distance = distance,
}

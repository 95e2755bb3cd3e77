-- kedge.windows: deployment windows, the `windows:` lists of a bundle, a
-- site and kedge.yaml. A window is {kind = allow|deny, days = [mon, ...],
-- from = "HH:MM", to = "HH:MM", timezone = NAME}: a range of wall-clock
-- times in its zone on the days listed (every day when days is left out);
-- from > to crosses midnight and belongs to the day it starts on; to may be
-- "24:00" (the end of the day). A bundle may change at epoch t when every
-- list (bundle, site, kedge.yaml) lets it: a list with allow windows lets
-- it only inside one of them, and no deny window of any list may hold t.
-- On the days the clocks change, a window follows the wall clock: the
-- skipped hour never happens (a window wholly inside it does not open that
-- day), the repeated hour happens twice.
--   windows.parse(v, path)         -> list, problems ({path=, message=}),
--                                      warnings ({path=, message=})
--   windows.blocked(lists, t)      -> nil (t is open) or why (text)
--   windows.next_open(lists, t)    -> the first epoch after t that is open,
--                                      or nil within KD_LIMIT_WINDOWS_SEARCH_DAYS
-- lists = {{windows = list, where = "bundles/web/bundle.yaml"}, ...}.
local tz = require "kedge.tz"
local limits = require "kedge.limits"

local M = {}

local DAY = 86400

M.KINDS = {"allow", "deny"}
M.DAYS = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
M.KEYS = {"kind", "days", "from", "to", "timezone"}

local DAY_INDEX = {}
for i, d in ipairs(M.DAYS) do DAY_INDEX[d] = i end

local function one_of(v, list)
  for _, x in ipairs(list) do if x == v then return true end end
  return false
end

-- Minutes of an "HH:MM" (00:00..23:59; "24:00" when end_ok), or nil.
local function minutes(s, end_ok)
  if type(s) ~= "string" then return nil end
  local h, m = s:match("^(%d%d):(%d%d)$")
  if not h then return nil end
  h, m = tonumber(h), tonumber(m)
  if h == 24 and m == 0 and end_ok then return 1440 end
  if h > 23 or m > 59 then return nil end
  return h * 60 + m
end

local function hhmm(min) return string.format("%02d:%02d", min // 60, min % 60) end

-- How a window reads in messages: "allow mon,tue 22:00-05:00 Europe/Berlin".
function M.describe(w)
  local d = {}
  for i, name in ipairs(M.DAYS) do if w.days[i] then d[#d + 1] = name end end
  return string.format("%s %s %s-%s %s", w.kind, #d == 7 and "every day" or table.concat(d, ","),
    hhmm(w.from), hhmm(w.to), w.timezone)
end

local function parse_one(v, path, P)
  local function add(key, fmt, ...)
    P[#P + 1] = {path = key and (path .. "." .. key) or path, message = string.format(fmt, ...)}
  end
  if type(v) ~= "table" then
    add(nil, "a window must be a map {kind: allow|deny, days: [mon, ...], from: HH:MM, to: HH:MM, timezone: NAME}")
    return nil
  end
  local n0 = #P
  for k in pairs(v) do
    if not one_of(k, M.KEYS) then
      add(tostring(k), 'unknown key "%s" in a window (known: %s)', tostring(k), table.concat(M.KEYS, ", "))
    end
  end
  local w = {days = {}}
  if not one_of(v.kind, M.KINDS) then
    add("kind", 'kind must be allow or deny, not %s', v.kind == nil and "missing" or ('"' .. tostring(v.kind) .. '"'))
  end
  w.kind = v.kind
  if v.days == nil then
    for i = 1, 7 do w.days[i] = true end
  elseif type(v.days) ~= "table" or #v.days == 0 then
    add("days", "days must be a list of mon, tue, wed, thu, fri, sat, sun (leave it out for every day)")
  else
    for i, d in ipairs(v.days) do
      local k = DAY_INDEX[type(d) == "string" and d:lower() or ""]
      if not k then
        add("days[" .. (i - 1) .. "]", 'day "%s" is not one of mon, tue, wed, thu, fri, sat, sun', tostring(d))
      else
        w.days[k] = true
      end
    end
  end
  w.from, w.to = minutes(v.from), minutes(v.to, true)
  if not w.from then
    add("from", 'from must be a time "HH:MM" (00:00 to 23:59), not %s', v.from == nil and "missing" or ('"' .. tostring(v.from) .. '"'))
  end
  if not w.to then
    add("to", 'to must be a time "HH:MM" (00:00 to 24:00), not %s', v.to == nil and "missing" or ('"' .. tostring(v.to) .. '"'))
  end
  if w.from and w.to and w.from == w.to then
    add("to", 'from and to are both %s: a window of no length (for the whole day write from: "00:00", to: "24:00")', hhmm(w.from))
  end
  if v.timezone == nil then
    add("timezone", "the window names no timezone: add timezone: UTC, an IANA name like Europe/Berlin, or an offset like +02:00")
  elseif type(v.timezone) ~= "string" then
    add("timezone", "timezone must be a string")
  else
    local z, err = tz.load(v.timezone)
    if not z then add("timezone", "%s", err) end
    w.timezone = v.timezone
  end
  if #P > n0 then return nil end
  return w
end

function M.parse(v, path)
  local P, W, out = {}, {}, {}
  if v == nil then return nil, P, W end
  if type(v) ~= "table" or (next(v) ~= nil and #v == 0) then
    P[1] = {path = path, message = "windows must be a list of {kind: allow|deny, days: [...], from: HH:MM, to: HH:MM, timezone: NAME}"}
    return nil, P, W
  end
  if #v > limits.windows then
    P[1] = {path = path, message = string.format("%d windows, more than %d", #v, limits.windows)}
    return nil, P, W
  end
  local seen = {}
  for i, x in ipairs(v) do
    local p = string.format("%s[%d]", path, i - 1)
    local w = parse_one(x, p, P)
    if w then
      local d = M.describe(w)
      if seen[d] then
        W[#W + 1] = {path = p, message = string.format("window %s repeats %s[%d]", d, path, seen[d] - 1)}
      else
        seen[d] = i
      end
      out[#out + 1] = w
    end
  end
  return out, P, W
end

-- ---- evaluation ----

-- Whether epoch t is inside window w (in w's wall time).
local function inside(w, t)
  local z = assert(tz.load(w.timezone))
  local lt = tz.to_local(z, t)
  local day, min = lt // DAY, (lt % DAY) // 60
  local wd = tz.weekday(day)
  if w.from < w.to then return w.days[wd] and min >= w.from and min < w.to or false end
  -- across midnight: the part after from on its day, the part before to
  -- on the next day
  if w.days[wd] and min >= w.from then return true end
  return w.days[(wd + 5) % 7 + 1] and min < w.to or false
end

function M.blocked(lists, t)
  for _, l in ipairs(lists) do
    local allows, open = {}, false
    for _, w in ipairs(l.windows or {}) do
      if w.kind == "deny" and inside(w, t) then
        return string.format("inside %s of %s", M.describe(w), l.where)
      end
      if w.kind == "allow" then
        allows[#allows + 1] = w
        if inside(w, t) then open = true end
      end
    end
    if #allows > 0 and not open then
      local d = {}
      for _, w in ipairs(allows) do d[#d + 1] = M.describe(w) end
      return string.format("%s allows only %s", l.where, table.concat(d, "; "))
    end
  end
  return nil
end

-- The epochs (after t) at which window w may open or close in the days
-- around t: where its wall clock passes from or to, or a gap skips them.
local function edges(w, t, out)
  local z = assert(tz.load(w.timezone))
  local d0 = tz.to_local(z, t) // DAY
  for d = d0 - 1, d0 + limits.windows_search_days + 1 do
    for _, m in ipairs({w.from, w.to}) do
      local list, gap_end = tz.from_local(z, d * DAY + m * 60)
      for _, e in ipairs(list or {gap_end}) do
        if e > t then out[#out + 1] = e end
      end
    end
  end
end

function M.next_open(lists, t)
  local cands = {}
  for _, l in ipairs(lists) do
    for _, w in ipairs(l.windows or {}) do edges(w, t, cands) end
  end
  table.sort(cands)
  local horizon = t + limits.windows_search_days * DAY
  local last
  for _, c in ipairs(cands) do
    if c > horizon then break end
    if c ~= last and not M.blocked(lists, c) then return c end
    last = c
  end
  return nil
end

return M

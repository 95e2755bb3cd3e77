-- kedge.tz: time zones for deployment windows. A zone is read from the
-- system's TZif files (RFC 8536, versions 1 to 4: $TZDIR or
-- /usr/share/zoneinfo/NAME), its footer's POSIX TZ string ruling times past
-- the last transition; "UTC" and fixed offsets ("+02:00", "-05:30") need no
-- file. Every count in a file is checked against the file's size and the
-- limits (KD_LIMIT_TZ_*) before anything is read, so a corrupt or hostile
-- file is an error, never a long loop.
--   tz.load(name)             -> zone | nil, err (cached per process)
--   tz.offset(zone, t)        -> seconds east of UTC at epoch t, is_dst, abbr
--   tz.from_local(zone, lt)   -> the epochs whose wall time is lt (seconds
--                                 since 1970-01-01 00:00 local): none (in a
--                                 gap: then nil, and the epoch the gap
--                                 ends), one, or two (a repeated hour)
-- Times are epoch seconds given by the caller: the module reads no clock.
local kos = require "kedge.os"
local limits = require "kedge.limits"
local kedge = require "kedge"

local M = {}

local DAY = 86400

-- ---- the civil calendar (proleptic Gregorian, days since 1970-01-01) ----

local function is_leap(y) return y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0) end

local MDAYS = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

local function month_days(y, m) return (m == 2 and is_leap(y)) and 29 or MDAYS[m] end

-- Days since the epoch of y-m-d (H. Hinnant's days_from_civil).
function M.days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = (153 * mp + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

-- y, m, d of a day number (the inverse).
function M.civil_from_days(z)
  z = z + 719468
  local era = z // 146097
  local doe = z - era * 146097
  local yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
  local doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
  local mp = (5 * doy + 2) // 153
  local d = doy - (153 * mp + 2) // 5 + 1
  local m = mp < 10 and mp + 3 or mp - 9
  return yoe + era * 400 + (m <= 2 and 1 or 0), m, d
end

-- 1 (Monday) .. 7 (Sunday) of a day number: 1970-01-01 was a Thursday.
function M.weekday(days) return (days + 3) % 7 + 1 end

-- ---- POSIX TZ strings (the TZif footer) ----

-- Reads a name at s[i]: letters, or <...> quoted; returns name, next i.
local function tz_name(s, i)
  if s:sub(i, i) == "<" then
    local j = s:find(">", i + 1, true)
    if not j or not s:sub(i + 1, j - 1):match("^[%w+-]+$") then return nil end
    return s:sub(i + 1, j - 1), j + 1
  end
  local n = s:match("^%a+", i)
  if not n or #n < 3 then return nil end
  return n, i + #n
end

-- Reads [+-]h[h][:mm[:ss]] at s[i] (hours up to max); seconds, next i.
local function tz_time(s, i, max)
  local sign, h, rest = s:match("^([+-]?)(%d%d?%d?)()", i)
  if not h then return nil end
  local secs, j = tonumber(h) * 3600, rest
  local mm, after = s:match("^:(%d%d)()", j)
  if mm then
    secs, j = secs + tonumber(mm) * 60, after
    local ss, after2 = s:match("^:(%d%d)()", j)
    if ss then secs, j = secs + tonumber(ss), after2 end
    if tonumber(mm) > 59 or (ss and tonumber(ss) > 59) then return nil end
  end
  if tonumber(h) > max then return nil end
  return sign == "-" and -secs or secs, j
end

-- Reads a rule date (Jn, n or Mm.w.d) and its optional /time at s[i].
local function tz_date(s, i)
  local r
  local n, j = s:match("^J(%d+)()", i)
  if n then
    r = {kind = "J", n = tonumber(n)}
    if r.n < 1 or r.n > 365 then return nil end
  else
    local m, w, d, k = s:match("^M(%d%d?)%.(%d)%.(%d)()", i)
    if m then
      r = {kind = "M", m = tonumber(m), w = tonumber(w), d = tonumber(d)}
      if r.m < 1 or r.m > 12 or r.w < 1 or r.w > 5 or r.d > 6 then return nil end
      j = k
    else
      n, j = s:match("^(%d+)()", i)
      if not n then return nil end
      r = {kind = "n", n = tonumber(n)}
      if r.n > 365 then return nil end
    end
  end
  r.time = 7200
  if s:sub(j, j) == "/" then
    -- RFC 8536 (version 3) allows -167..167 hours here
    r.time, j = tz_time(s, j + 1, 167)
    if not r.time then return nil end
  end
  return r, j
end

-- Parses a POSIX TZ string: {std =, std_off =, dst =, dst_off =, start =,
-- ["end"] =} with offsets east of UTC (POSIX writes them west); nil, why.
function M.parse_posix(s)
  local bad = function(why) return nil, string.format("TZ string %q: %s", s, why) end
  local r, i = {}, 1
  r.std, i = tz_name(s, i)
  if not r.std then return bad("no standard time name (3 letters or more, or <...>)") end
  local off
  off, i = tz_time(s, i, 24)
  if not off then return bad("no valid UTC offset after " .. r.std) end
  r.std_off = -off
  if i > #s then return r end
  r.dst, i = tz_name(s, i)
  if not r.dst then return bad("a daylight time name must follow the offset") end
  r.dst_off = r.std_off + 3600
  if i <= #s and s:sub(i, i) ~= "," then
    off, i = tz_time(s, i, 24)
    if not off then return bad("no valid daylight time offset after " .. r.dst) end
    r.dst_off = -off
  end
  if s:sub(i, i) ~= "," then return bad("daylight time without a rule (,start[/time],end[/time])") end
  r.start, i = tz_date(s, i + 1)
  if not r.start or s:sub(i, i) ~= "," then return bad("the rule's start date is not Jn, n or Mm.w.d") end
  r["end"], i = tz_date(s, i + 1)
  if not r["end"] or i <= #s then return bad("the rule's end date is not Jn, n or Mm.w.d") end
  return r
end

-- Day number of a rule date in year y.
local function rule_day(d, y)
  local jan1 = M.days_from_civil(y, 1, 1)
  if d.kind == "J" then return jan1 + d.n - 1 + ((is_leap(y) and d.n >= 60) and 1 or 0) end
  if d.kind == "n" then return jan1 + d.n end
  local first = M.days_from_civil(y, d.m, 1)
  local wd0 = (first + 4) % 7 -- 0 = Sunday, as POSIX counts
  local day = 1 + (d.d - wd0) % 7 + (d.w - 1) * 7
  while day > month_days(y, d.m) do day = day - 7 end
  return first + day - 1
end

-- The epochs daylight time starts and ends in year y under rule r.
local function rule_bounds(r, y)
  local s = rule_day(r.start, y) * DAY + r.start.time - r.std_off
  local e = rule_day(r["end"], y) * DAY + r["end"].time - r.dst_off
  return s, e
end

local function posix_offset(r, t)
  if not r.dst then return r.std_off, false, r.std end
  local y = M.civil_from_days((t + r.std_off) // DAY)
  local s, e = rule_bounds(r, y)
  local dst
  if s < e then dst = t >= s and t < e else dst = not (t >= e and t < s) end
  if dst then return r.dst_off, true, r.dst end
  return r.std_off, false, r.std
end

-- ---- TZif ----

-- Parses a TZif file's bytes; where names it in errors.
function M.parse_tzif(data, where)
  local function bad(fmt, ...)
    return nil, string.format("%s: not a valid TZif zone file (%s)", where, string.format(fmt, ...))
  end
  local function header(at)
    if #data < at + 43 then return nil end
    if data:sub(at, at + 3) ~= "TZif" then return nil end
    local h = {version = data:byte(at + 4)}
    h.isut, h.isstd, h.leap, h.time, h.type, h.char = string.unpack(">I4I4I4I4I4I4", data, at + 20)
    return h
  end
  local h = header(1)
  if not h then return bad("no TZif header") end
  local v = h.version
  if v ~= 0 and (v < 0x32 or v > 0x34) then return bad("unknown version byte %d", v) end
  local tsize, at = 4, 45
  if v ~= 0 then
    -- skip the version 1 block: version 2+ data follows with 64-bit times
    at = at + h.time * 5 + h.type * 6 + h.char + h.leap * 8 + h.isstd + h.isut
    h = header(at)
    if not h then return bad("no second header after the version 1 data") end
    tsize, at = 8, at + 44
  end
  if h.type < 1 or h.type > limits.tz_types then return bad("%d local time types", h.type) end
  if h.time > limits.tz_transitions then return bad("%d transitions, more than %d", h.time, limits.tz_transitions) end
  if h.char < 1 then return bad("no designations") end
  if (h.isstd ~= 0 and h.isstd ~= h.type) or (h.isut ~= 0 and h.isut ~= h.type) then
    return bad("indicator counts do not match the type count")
  end
  if h.leap ~= 0 then return bad("leap-second records (a right/ zone): use the zone's plain name") end
  local size = h.time * (tsize + 1) + h.type * 6 + h.char + h.isstd + h.isut
  if #data < at + size - 1 then return bad("truncated data block") end
  local z = {times = {}, idx = {}, types = {}}
  local tfmt = tsize == 4 and ">i4" or ">i8"
  for k = 1, h.time do
    z.times[k] = string.unpack(tfmt, data, at + (k - 1) * tsize)
    if k > 1 and z.times[k] <= z.times[k - 1] then return bad("transition times out of order") end
  end
  at = at + h.time * tsize
  for k = 1, h.time do
    z.idx[k] = data:byte(at + k - 1) + 1
    if z.idx[k] > h.type then return bad("transition %d names type %d of %d", k, z.idx[k] - 1, h.type) end
  end
  at = at + h.time
  local chars_at = at + h.type * 6
  local chars = data:sub(chars_at, chars_at + h.char - 1)
  for k = 1, h.type do
    local off, isdst, ai = string.unpack(">i4BB", data, at + (k - 1) * 6)
    if off < -89999 or off > 93599 then return bad("type %d has offset %d", k - 1, off) end
    if isdst > 1 or ai >= h.char then return bad("type %d is malformed", k - 1) end
    z.types[k] = {off = off, dst = isdst == 1, abbr = chars:match("^[^%z]*", ai + 1)}
  end
  if v ~= 0 then
    local fat = at + size - h.time * (tsize + 1)
    local footer = data:match("^\n([^\n]*)\n", fat)
    if not footer then return bad("no footer line after the data") end
    if footer ~= "" then
      local r, err = M.parse_posix(footer)
      if not r then return bad("%s", err) end
      z.rule = r
    end
  end
  return z
end

-- ---- zones ----

local cache = {}

-- A fixed zone (UTC or an offset east of UTC, in seconds).
local function fixed(name, off)
  return {name = name, times = {}, idx = {}, types = {{off = off, dst = false, abbr = name}}}
end

-- Whether name is a fixed offset "+HH:MM" / "-HH:MM" (or +HH); its seconds.
local function fixed_offset(name)
  local sign, h, m = name:match("^([+-])(%d%d):?(%d%d)$")
  if not sign then sign, h = name:match("^([+-])(%d%d)$"); m = "00" end
  if not sign or tonumber(h) > 18 or tonumber(m) > 59 then return nil end
  local off = tonumber(h) * 3600 + tonumber(m) * 60
  return sign == "-" and -off or off
end

-- Whether name could be a zone name at all (IANA: parts of letters,
-- digits, ".", "_", "+", "-", no "." or ".." part, no leading "/").
function M.valid_name(name)
  if type(name) ~= "string" or name == "" or #name > 255 then return false end
  if fixed_offset(name) then return true end
  for part in (name .. "/"):gmatch("([^/]*)/") do
    if part == "" or part == "." or part == ".." or not part:match("^[%w._+-]+$") then return false end
  end
  return true
end

-- The folder of the zone files.
function M.dir() return os.getenv("TZDIR") or "/usr/share/zoneinfo" end

-- ' (did you mean "Europe/Berlin"?)' for a misspelt name, from the
-- zone files next to where it would be.
local function near(name)
  local dir, base = name:match("^(.*)/([^/]+)$")
  local names = kos.read_dir(M.dir() .. (dir and ("/" .. dir) or "")) or {}
  local best, bd
  for _, n in ipairs(names) do
    local d = kedge.edit_distance(base or name, n)
    if d <= 2 and (not bd or d < bd) then best, bd = n, d end
  end
  return best and string.format(' (did you mean "%s"?)', (dir and (dir .. "/") or "") .. best) or ""
end

function M.load(name)
  if cache[name] then return cache[name] end
  if name == "UTC" or name == "Z" then cache[name] = fixed("UTC", 0); return cache[name] end
  local off = type(name) == "string" and fixed_offset(name)
  if off then cache[name] = fixed(name, off); return cache[name] end
  if not M.valid_name(name) then
    return nil, string.format('"%s" is not a time zone name (an IANA name like Europe/Berlin, UTC, or an offset like +02:00)', tostring(name))
  end
  local path = M.dir() .. "/" .. name
  local data, err = kos.read_file(path, limits.tz_file_bytes)
  if not data then
    if not kos.stat(path) then
      return nil, string.format('unknown time zone "%s": this node has no %s%s (install the tzdata package, or use UTC or an offset like +02:00)',
        name, path, near(name))
    end
    return nil, string.format('time zone "%s": %s', name, tostring(err))
  end
  local z, perr = M.parse_tzif(data, path)
  if not z then return nil, perr end
  z.name = name
  cache[name] = z
  return z
end

-- Seconds east of UTC at epoch t, whether daylight time, the abbreviation.
function M.offset(z, t)
  local n = #z.times
  local ty
  if n == 0 or t < z.times[1] then
    if n > 0 or not z.rule then ty = z.types[1] end
  elseif t >= z.times[n] and z.rule then
    return posix_offset(z.rule, t)
  else
    local lo, hi = 1, n -- z.times[lo] <= t: the last such
    while lo < hi do
      local mid = (lo + hi + 1) // 2
      if z.times[mid] <= t then lo = mid else hi = mid - 1 end
    end
    ty = z.types[z.idx[lo]]
  end
  if not ty then return posix_offset(z.rule, t) end
  return ty.off, ty.dst, ty.abbr
end

-- The wall time at epoch t, as seconds since 1970-01-01 00:00 local.
function M.to_local(z, t) return t + (M.offset(z, t)) end

function M.from_local(z, lt)
  local oa, ob = M.offset(z, lt - DAY), M.offset(z, lt + DAY)
  local out = {}
  for _, o in ipairs(oa == ob and {oa} or {ob, oa}) do
    local t = lt - o
    if M.offset(z, t) == o then out[#out + 1] = t end
  end
  table.sort(out)
  if #out > 0 then return out end
  -- a gap (the clocks moved ahead past lt): the epoch they moved
  local lo, hi = lt - math.max(oa, ob), lt - math.min(oa, ob)
  for _ = 1, 64 do
    if hi - lo <= 1 then break end
    local mid = (lo + hi) // 2
    if M.offset(z, mid) == oa then lo = mid else hi = mid end
  end
  return nil, hi
end

return M

-- kedge.tz and kedge.windows: TZif files and POSIX TZ rules, wall time both
-- ways across DST changes, and deployment windows (days, midnight, gaps,
-- deny inside allow, the next opening), with every time given explicitly.
local t = dofile("tests/tap.lua")
local tz = require "kedge.tz"
local windows = require "kedge.windows"

local function utc(y, m, d, h, mi) return tz.days_from_civil(y, m, d) * 86400 + (h or 0) * 3600 + (mi or 0) * 60 end

-- ---- the calendar ----
t.is(utc(2027, 3, 28, 1), 1806195600, "days_from_civil: 2027-03-28 01:00Z")
t.is(utc(2045, 10, 29, 1), 2392851600, "and 2045-10-29 01:00Z")
t.same({tz.civil_from_days(tz.days_from_civil(2028, 2, 29))}, {2028, 2, 29}, "civil_from_days inverts it")
t.is(tz.weekday(tz.days_from_civil(2027, 3, 28)), 7, "2027-03-28 is a Sunday (7)")
t.is(tz.weekday(0), 4, "1970-01-01 was a Thursday")

-- ---- POSIX TZ strings ----
local r = assert(tz.parse_posix("CET-1CEST,M3.5.0,M10.5.0/3"))
t.same({r.std, r.std_off, r.dst, r.dst_off, r.start.m, r.start.w, r.start.d, r.start.time, r["end"].time},
  {"CET", 3600, "CEST", 7200, 3, 5, 0, 7200, 10800}, "CET-1CEST,M3.5.0,M10.5.0/3")
r = assert(tz.parse_posix("<+0330>-3:30"))
t.same({r.std, r.std_off, r.dst}, {"+0330", 12600}, "a quoted name and minutes, no daylight time")
r = assert(tz.parse_posix("<-03>3<-02>,M3.5.0/-2,M10.5.0/-1"))
t.same({r.std_off, r.dst_off, r.start.time}, {-10800, -7200, -7200}, "version 3: negative rule times")
for _, bad in ipairs({"", "CE-1", "CET", "CET-1CEST", "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.5.0",
    "CET-25", "CET-1CEST,M3.5.0,M10.5.0/3x", "<CET-1", "CET-1CEST,J0,J365"}) do
  local ok, err = tz.parse_posix(bad)
  t.ok(not ok and err:match("TZ string"), "refused: " .. string.format("%q", bad) .. " (" .. tostring(err) .. ")")
end

-- ---- zones from files ----
local berlin = assert(tz.load("Europe/Berlin"))
t.is(tz.offset(berlin, utc(2027, 1, 15, 12)), 3600, "Berlin in January: +1")
t.is(tz.offset(berlin, utc(2027, 7, 15, 12)), 7200, "in July: +2")
t.is(tz.offset(berlin, utc(2027, 3, 28, 1) - 1), 3600, "2027-03-28 00:59:59Z: still CET")
local off, dst, abbr = tz.offset(berlin, utc(2027, 3, 28, 1))
t.same({off, dst, abbr}, {7200, true, "CEST"}, "01:00:00Z: CEST (last Sunday of March)")
t.is(tz.offset(berlin, utc(2027, 10, 31, 1) - 1), 7200, "2027-10-31 00:59:59Z: still CEST")
t.is(tz.offset(berlin, utc(2027, 10, 31, 1)), 3600, "01:00Z: CET again (last Sunday of October)")
-- far past the table of a slim file or the 2037 end of a fat one: the footer's rule
t.is(tz.offset(berlin, utc(2045, 3, 26, 1) - 1), 3600, "2045 (the footer's rule): CET before 2045-03-26 01:00Z")
t.is(tz.offset(berlin, utc(2045, 3, 26, 1)), 7200, "CEST from then")
t.is(tz.offset(berlin, utc(2045, 10, 29, 1)), 3600, "and CET from 2045-10-29 01:00Z")
t.is(tz.offset(berlin, utc(2112, 8, 1)), 7200, "2112 in August: CEST")
local sydney = assert(tz.load("Australia/Sydney"))
t.is(tz.offset(sydney, utc(2027, 1, 15)), 39600, "Sydney in January: +11 (southern summer)")
t.is(tz.offset(sydney, utc(2027, 7, 15)), 36000, "in July: +10")
t.is(tz.offset(sydney, utc(2050, 1, 15)), 39600, "and by the rule in 2050")
t.is(tz.offset(assert(tz.load("Etc/GMT-2")), utc(2027, 1, 1)), 7200, "Etc/GMT-2 (a file) is +2")
t.is(tz.offset(assert(tz.load("America/New_York")), utc(2027, 7, 4)), -14400, "New York in July: -4")

-- ---- fixed zones without files ----
t.is(tz.offset(assert(tz.load("UTC")), 0), 0, "UTC")
t.is(tz.offset(assert(tz.load("+02:00")), 0), 7200, "+02:00")
t.is(tz.offset(assert(tz.load("-05:30")), 0), -19800, "-05:30")
t.is(tz.offset(assert(tz.load("+0545")), 0), 20700, "+0545")
local z, err = tz.load("Mars/Olympus_Mons")
t.like(err, 'unknown time zone "Mars/Olympus_Mons": this node has no .*zoneinfo/Mars/Olympus_Mons', "an unknown zone")
for _, bad in ipairs({"../../etc/passwd", "/etc/localtime", "%s%n%x", "Europe//Berlin", "+25:00", ""}) do
  z, err = tz.load(bad)
  t.ok(not z and err:match("not a time zone name"), "not a zone name: " .. bad)
end

-- ---- malformed TZif data: an error, never a loop ----
local function tzif(v, counts, body)
  return "TZif" .. v .. string.rep("\0", 15) .. string.pack(">I4I4I4I4I4I4", table.unpack(counts)) .. (body or "")
end
local cases = {
  {"", "no TZif header"},
  {"TZjf" .. string.rep("\0", 60), "no TZif header"},
  {tzif("9", {0, 0, 0, 0, 1, 4}), "unknown version"},
  {tzif("\0", {0, 0, 0, 0, 0, 4}), "0 local time types"},
  {tzif("\0", {0, 0, 0, 4294967295, 1, 4}), "transitions, more than"},
  {tzif("\0", {0, 0, 0, 2, 1, 4}), "truncated"},
  {tzif("\0", {0, 0, 1, 0, 1, 4}), "leap%-second"},
  {tzif("\0", {0, 0, 0, 0, 1, 4}, string.pack(">i4BB", 3600, 0, 9) .. "CET\0"), "type 0 is malformed"},
  {tzif("\0", {0, 0, 0, 2, 1, 4}, string.pack(">i4i4BB", 10, 5, 0, 0) .. string.pack(">i4BB", 0, 0, 0) .. "UTC\0"),
    "out of order"},
  {tzif("\0", {0, 0, 0, 1, 1, 4}, string.pack(">i4B", 10, 3) .. string.pack(">i4BB", 0, 0, 0) .. "UTC\0"),
    "names type 3"},
  {tzif("2", {0, 0, 0, 0, 1, 4}, string.pack(">i4BB", 0, 0, 0) .. "UTC\0"), "no second header"},
  {tzif("2", {0, 0, 0, 0, 1, 4}, string.pack(">i4BB", 0, 0, 0) .. "UTC\0" ..
    tzif("2", {0, 0, 0, 0, 1, 4}, string.pack(">i4BB", 0, 0, 0) .. "UTC\0" .. "\nCET-1CEST\n")), "daylight time without a rule"},
  {tzif("2", {0, 0, 0, 0, 1, 4}, string.pack(">i4BB", 0, 0, 0) .. "UTC\0" ..
    tzif("2", {0, 0, 0, 0, 1, 4}, string.pack(">i4BB", 0, 0, 0) .. "UTC\0")), "no footer"},
}
for _, c in ipairs(cases) do
  z, err = tz.parse_tzif(c[1], "zone.bin")
  t.ok(not z and err:match("^zone%.bin: not a valid TZif zone file") and err:match(c[2]),
    "malformed: " .. c[2] .. " (" .. tostring(err) .. ")")
end
z = assert(tz.parse_tzif(tzif("2", {0, 0, 0, 0, 1, 4}, string.pack(">i4BB", 0, 0, 0) .. "UTC\0" ..
  tzif("2", {0, 0, 0, 0, 1, 4}, string.pack(">i4BB", 0, 0, 0) .. "UTC\0" .. "\nCET-1CEST,M3.5.0,M10.5.0/3\n")), "mini"))
t.is(tz.offset(z, utc(2027, 7, 1)), 7200, "a file with no transitions and a footer rule follows the rule")
-- version 1: 32-bit times, no footer; before the first transition, type 0
z = assert(tz.parse_tzif(tzif("\0", {0, 0, 0, 1, 2, 8}, string.pack(">i4B", 1000000, 1) ..
  string.pack(">i4BBi4BB", 3600, 0, 0, 7200, 1, 4) .. "AAA\0BBB\0"), "v1"))
t.same({tz.offset(z, 999999)}, {3600, false, "AAA"}, "a version 1 file: type 0 before the transition")
t.same({tz.offset(z, 1000000)}, {7200, true, "BBB"}, "the transition's type from then on")
t.same({tz.offset(z, utc(2100, 1, 1))}, {7200, true, "BBB"}, "and after it, with no footer")
-- every truncation of a real file is refused or parsed, never a crash
local real = assert(require("kedge.os").read_file(tz.dir() .. "/Europe/Berlin"))
local refused = 0
for n = 0, #real - 1, 7 do
  local okp, zz = pcall(tz.parse_tzif, real:sub(1, n), "cut")
  t.ok(okp, "a file cut at " .. n .. " bytes does not raise")
  if not zz then refused = refused + 1 end
end
t.ok(refused > 0, "cut files are refused")

-- ---- wall time to UTC: the gap and the repeated hour ----
local L = function(y, m, d, h, mi) return utc(y, m, d, h, mi) end -- a wall time, as if UTC
local list, gap_end = tz.from_local(berlin, L(2027, 3, 28, 2, 30))
t.same({list, gap_end}, {nil, utc(2027, 3, 28, 1)}, "02:30 on 2027-03-28 does not exist in Berlin: the gap ends 01:00Z")
t.same(tz.from_local(berlin, L(2027, 10, 31, 2, 30)), {utc(2027, 10, 31, 0, 30), utc(2027, 10, 31, 1, 30)},
  "02:30 on 2027-10-31 happens twice: 00:30Z and 01:30Z")
t.same(tz.from_local(berlin, L(2027, 6, 1, 12, 0)), {utc(2027, 6, 1, 10, 0)}, "noon in June is 10:00Z")
t.same({tz.from_local(berlin, L(2045, 3, 26, 2, 0))}, {nil, utc(2045, 3, 26, 1)}, "the gap by the footer's rule too")

-- ---- parsing windows ----
local function parse(v)
  local w, P, W = windows.parse(v, "windows")
  local msgs = {}
  for _, p in ipairs(P) do msgs[#msgs + 1] = p.path .. ": " .. p.message end
  return w, table.concat(msgs, "\n"), W
end
local w, perr, warn = parse({{kind = "allow", days = {"mon", "Tue"}, from = "22:00", to = "05:00", timezone = "Europe/Berlin"}})
t.is(perr, "", "a valid window")
t.is(windows.describe(w[1]), "allow mon,tue 22:00-05:00 Europe/Berlin", "described")
w = parse({{kind = "deny", from = "00:00", to = "24:00", timezone = "UTC"}})
t.is(windows.describe(w[1]), "deny every day 00:00-24:00 UTC", "days left out: every day; to 24:00")
local bad_cases = {
  {{kind = "open", from = "01:00", to = "02:00", timezone = "UTC"}, 'windows%[0%]%.kind: kind must be allow or deny, not "open"'},
  {{kind = "allow", days = {"monday"}, from = "01:00", to = "02:00", timezone = "UTC"}, 'windows%[0%]%.days%[0%]: day "monday" is not one of mon'},
  {{kind = "allow", days = {}, from = "01:00", to = "02:00", timezone = "UTC"}, "days must be a list"},
  {{kind = "allow", from = "25:00", to = "02:00", timezone = "UTC"}, 'from must be a time "HH:MM" %(00:00 to 23:59%), not "25:00"'},
  {{kind = "allow", from = "7:00", to = "02:00", timezone = "UTC"}, 'not "7:00"'},
  {{kind = "allow", from = "%s%n", to = "02:00", timezone = "UTC"}, 'not "%%s%%n"'},
  {{kind = "allow", from = "24:00", to = "02:00", timezone = "UTC"}, 'from must be'},
  {{kind = "allow", from = "01:00", to = "01:00", timezone = "UTC"}, "from and to are both 01:00: a window of no length"},
  {{kind = "allow", from = "01:00", to = "02:00", timezone = "Europe/Berlln"}, 'windows%[0%]%.timezone: unknown time zone "Europe/Berlln"'},
  {{kind = "allow", from = "01:00", to = "02:00"}, "names no timezone"},
  {{kind = "allow", from = "01:00", to = "02:00", timezone = "UTC", day = {"mon"}}, 'unknown key "day"'},
  {"mon", "a window must be a map"},
}
for _, c in ipairs(bad_cases) do
  w, perr = parse({c[1]})
  t.like(perr, c[2], "refused: " .. c[2]:gsub("%%", ""))
  t.is(w and #w, 0, "and not kept")
end
w, perr = parse({kind = "allow"})
t.like(perr, "windows must be a list", "a map in place of the list")
local two = {kind = "allow", days = {"sat"}, from = "01:00", to = "02:00", timezone = "UTC"}
w, perr, warn = parse({two, {kind = "allow", days = {"sat"}, from = "01:30", to = "03:00", timezone = "UTC"}, two})
t.is(perr, "", "overlapping windows are allowed")
t.is(#warn, 1, "a repeated one is a warning")
t.like(warn[1].message, "window allow sat 01:00%-02:00 UTC repeats windows%[0%]", "naming the first")
t.is(warn[1].path, "windows[2]", "at the repeat")

-- ---- evaluation ----
local function lists(...)
  local out = {}
  for i, v in ipairs({...}) do
    local ws, e = parse(v)
    assert(e == "", e)
    out[i] = {windows = ws, where = "level" .. i}
  end
  return out
end
-- 2027-03-01 is a Monday
local nightly = lists({{kind = "allow", days = {"mon", "tue", "wed", "thu", "fri"}, from = "22:00", to = "05:00",
  timezone = "Europe/Berlin"}})
t.is(windows.blocked(nightly, utc(2027, 3, 2, 22)), nil, "Tue 23:00 Berlin: inside the nightly window")
t.is(windows.blocked(nightly, utc(2027, 3, 6, 1)), nil, "Sat 02:00 Berlin: Friday's window, which crosses midnight")
t.like(windows.blocked(nightly, utc(2027, 3, 6, 22)), "level1 allows only allow mon,tue,wed,thu,fri 22:00%-05:00 Europe/Berlin",
  "Sat 23:00: outside (Saturday is not listed)")
t.ok(windows.blocked(nightly, utc(2027, 3, 1, 2)), "Mon 03:00: outside (it would be Sunday's window)")
t.ok(windows.blocked(nightly, utc(2027, 3, 2, 4)), "Tue 05:00 exactly: closed (to is not inside)")
t.is(windows.blocked(nightly, utc(2027, 3, 2, 21)), nil, "Tue 22:00 exactly: open (from is inside)")
t.is(windows.next_open(nightly, utc(2027, 3, 6, 12)), utc(2027, 3, 8, 21), "Saturday noon: opens Monday 22:00 CET (21:00Z)")
t.is(windows.next_open(nightly, utc(2027, 3, 2, 12)), utc(2027, 3, 2, 21), "Tuesday noon: opens that evening")

-- the spring gap: a window from 02:30 opens when the clocks jump to 03:00
local early = lists({{kind = "allow", from = "02:30", to = "05:00", timezone = "Europe/Berlin"}})
t.ok(windows.blocked(early, utc(2027, 3, 28, 1) - 1), "2027-03-28 01:59:59 CET: closed")
t.is(windows.blocked(early, utc(2027, 3, 28, 1)), nil, "03:00 CEST (01:00Z): open, the wall clock passed 02:30")
t.is(windows.next_open(early, utc(2027, 3, 28, 0)), utc(2027, 3, 28, 1), "next_open: the end of the gap")
t.is(windows.next_open(early, utc(2027, 3, 27, 12)), utc(2027, 3, 28, 1), "from the day before too")
t.is(windows.next_open(early, utc(2027, 3, 25, 12)), utc(2027, 3, 26, 1, 30), "on ordinary days 02:30 CET is 01:30Z")
local in_gap = lists({{kind = "allow", from = "02:15", to = "02:45", timezone = "Europe/Berlin"}})
t.is(windows.next_open(in_gap, utc(2027, 3, 28, 0)), utc(2027, 3, 29, 0, 15),
  "a window wholly inside the skipped hour does not open that day: the next is 02:15 CEST on Monday")
-- the autumn overlap: the repeated hour is inside twice
local two_am = lists({{kind = "allow", from = "02:00", to = "03:00", timezone = "Europe/Berlin"}})
t.is(windows.blocked(two_am, utc(2027, 10, 31, 0, 30)), nil, "2027-10-31 02:30 CEST: open")
t.is(windows.blocked(two_am, utc(2027, 10, 31, 1, 30)), nil, "02:30 CET, an hour later: open again")
t.ok(windows.blocked(two_am, utc(2027, 10, 31, 2, 0)), "03:00 CET: closed")
t.is(windows.next_open(two_am, utc(2027, 10, 31, 2, 0)), utc(2027, 11, 1, 1, 0), "and it opens 02:00 CET the next day")

-- deny inside allow, and days
local weekdays = lists({{kind = "allow", from = "00:00", to = "24:00", timezone = "UTC"},
  {kind = "deny", days = {"sat", "sun"}, from = "00:00", to = "24:00", timezone = "UTC"}})
t.like(windows.blocked(weekdays, utc(2027, 3, 6, 12)), "inside deny sat,sun 00:00%-24:00 UTC of level1", "Saturday: denied")
t.is(windows.blocked(weekdays, utc(2027, 3, 5, 23, 59)), nil, "Friday 23:59: open")
t.is(windows.next_open(weekdays, utc(2027, 3, 6, 12)), utc(2027, 3, 8), "opens Monday 00:00Z")
local lunch = lists({{kind = "allow", from = "08:00", to = "18:00", timezone = "UTC"},
  {kind = "deny", from = "12:00", to = "13:00", timezone = "UTC"}})
t.ok(windows.blocked(lunch, utc(2027, 3, 3, 12, 30)), "a deny inside an allow blocks")
t.is(windows.next_open(lunch, utc(2027, 3, 3, 12, 30)), utc(2027, 3, 3, 13), "until the deny ends")

-- every level applies: the bundle's allow and the site's deny
local levels = lists({{kind = "allow", from = "22:00", to = "05:00", timezone = "Europe/Berlin"}},
  {{kind = "deny", days = {"fri"}, from = "23:00", to = "24:00", timezone = "Europe/Berlin"}},
  {})
t.like(windows.blocked(levels, utc(2027, 3, 5, 22, 30)), "inside deny fri 23:00%-24:00 Europe/Berlin of level2",
  "Fri 23:30 Berlin: the site's deny wins over the bundle's allow")
t.is(windows.next_open(levels, utc(2027, 3, 5, 22, 30)), utc(2027, 3, 5, 23), "it opens at midnight, still in the allow")
local both_allow = lists({{kind = "allow", from = "22:00", to = "23:00", timezone = "UTC"}},
  {{kind = "allow", from = "22:30", to = "23:30", timezone = "UTC"}})
t.ok(windows.blocked(both_allow, utc(2027, 3, 5, 22, 10)), "each level's allows apply: 22:10 is outside the site's")
t.is(windows.next_open(both_allow, utc(2027, 3, 5, 12)), utc(2027, 3, 5, 22, 30), "both open from 22:30")

-- fixed offsets
local plus2 = lists({{kind = "allow", from = "09:00", to = "17:00", timezone = "+02:00"}})
t.ok(windows.blocked(plus2, utc(2027, 3, 3, 6, 59)), "06:59Z is 08:59 at +02:00: closed")
t.is(windows.blocked(plus2, utc(2027, 3, 3, 7)), nil, "07:00Z: open")
t.is(windows.next_open(plus2, utc(2027, 3, 3, 15)), utc(2027, 3, 4, 7), "after 17:00 local: the next morning")

-- never open within the search: nil
local never = lists({{kind = "deny", from = "00:00", to = "24:00", timezone = "UTC"}})
t.is(windows.next_open(never, utc(2027, 3, 3)), nil, "a deny of every day: no opening within the search")
t.is(windows.blocked(lists({}, {}), 0), nil, "no windows: always open")

-- the gate: held with the reason and until when; --ignore-windows notes it
local gate = require "kedge.gates.window"
local site_w = parse({{kind = "allow", days = {"sat"}, from = "01:00", to = "02:00", timezone = "UTC"}})
local results = {}
local ctx = {site = {file = "sites/s1.yaml", windows = site_w}, repo = {settings = {}},
  commit = {id = "c1"}, good = {web = {commit = "c1"}}, opts = {}, now = utc(2027, 3, 3, 12),
  result_of = function(n) results[n] = results[n] or {}; return results[n] end}
local held = gate.check(ctx, {name = "web", file = "bundles/web/bundle.yaml"})
t.same(held, {reason = "outside its deployment windows (sites/s1.yaml allows only allow sat 01:00-02:00 UTC)",
  ["until"] = utc(2027, 3, 6, 1)}, "the gate holds the bundle, at its last good commit too, until Saturday 01:00Z")
ctx.now = utc(2027, 3, 6, 1, 30)
t.is(gate.check(ctx, {name = "web"}), nil, "inside the window it lets it through")
ctx.now, ctx.opts.ignore_windows = utc(2027, 3, 3, 12), true
t.is(gate.check(ctx, {name = "web"}), nil, "--ignore-windows lets it through")
t.same(results.web.overridden, {{gate = "window", by = "--ignore-windows",
  reason = "outside its deployment windows (sites/s1.yaml allows only allow sat 01:00-02:00 UTC)"}},
  "and notes it in the result")
t.is(gate.check({site = {}, repo = {settings = {}}, opts = {}, now = 0}, {name = "x"}), nil, "no windows: no hold")
ctx.opts.ignore_windows = nil
ctx.site.windows = parse({{kind = "deny", from = "00:00", to = "24:00", timezone = "UTC"}})
held = gate.check(ctx, {name = "web"})
t.like(held.reason, "inside deny every day 00:00%-24:00 UTC of sites/s1.yaml%); none opens in the next 8 days",
  "a window that never opens: said, and no until")
t.is(held["until"], nil, "no until")

t.done()

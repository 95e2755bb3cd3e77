-- kedge.report's collect without a network: a stick's DIR/reports/SITE/
-- read in place (nothing renamed or removed there), each report delivered
-- once to a dir destination with a marker beside it, and the hostile
-- files a stick may carry (a 200 MB sparse file, a FIFO, torn JSON, a
-- report of another site, an id that is no kedge id) named and skipped
-- while the rest still goes; bootstrap's report.json delivered by its id.
-- Webhook and status branch: tests/e2e/t0985-report-collect.sh.
local t = dofile("tests/tap.lua")
local report = require "kedge.report"
local kos = require "kedge.os"

local tmp = os.tmpname()
os.remove(tmp)
local function sh(cmd) return os.execute(cmd) end
sh("mkdir -p " .. tmp)

local function sample(site, started)
  local r = report.new{site = site, commit = "0123456789abcdef0123456789abcdef01234567",
    signature = "verified", started = started}
  report.add_bundle(r, {name = "web", status = "ok", created = 1, updated = 0, unchanged = 0, pruned = 0,
    smoke = {{name = "answers", kind = "http", status = "passed", duration = 0.1}}})
  return report.finish(r, "ok", started + 5)
end

-- reports written as a pass writes them, then moved onto the "stick"
local out, stick = tmp .. "/node", tmp .. "/stick/reports/berlin"
sh("mkdir -p " .. stick .. " " .. tmp .. "/upstream")
local r1, r2 = sample("berlin", 1764801000), sample("berlin", 1764801100)
for _, r in ipairs({r1, r2}) do assert(report.outbox_write(out, r)) end
sh("cp " .. out .. "/outbox/* " .. stick .. "/")
local dests = {{dir = tmp .. "/upstream"}}

t.raises(function() report.collect(stick, nil, dests, tmp .. "/state") end, "report.collect%(dir, site",
  "collect without a site raises")
local bad, berr = report.collect(stick, "berlin", {{webhook = "ftp://x"}}, tmp .. "/state")
t.ok(bad == nil and berr:find("report destination 1: webhook"), "a bad destination: nil, err naming it")

local s = assert(report.collect(stick, "berlin", dests, tmp .. "/state"))
t.same({s.reports, s.delivered, s.already, s.pending, #s.bad, #s.failed}, {2, 2, 0, 0, 0, 0},
  "both reports delivered")
local up = kos.read_dir(tmp .. "/upstream/kedge-reports/berlin") or {}
t.same(up, {r1.id .. ".json", r1.id .. ".junit.xml", r2.id .. ".json", r2.id .. ".junit.xml"},
  "the destination has both, with their JUnit XML")
local names = kos.read_dir(stick)
t.is(#names, 6, "the stick keeps its four files and gains a marker per report")
t.ok(kos.stat(stick .. "/" .. r1.id .. ".done-dir-" .. report.fnv(tmp .. "/upstream")),
  "the marker names the destination as the outbox's do")

s = assert(report.collect(stick, "berlin", dests, tmp .. "/state"))
t.same({s.reports, s.delivered, s.already}, {2, 0, 2}, "a second collect delivers nothing")
local dests2 = {{dir = tmp .. "/upstream"}, {dir = tmp .. "/stick"}}
s = assert(report.collect(stick, "berlin", dests2, tmp .. "/state"))
t.same({s.delivered, s.already}, {2, 0}, "a new destination gets what it lacks, the old one nothing")

-- the hostile stick
local huge, fifo = sample("berlin", 1764801200), sample("berlin", 1764801300)
local other, good = sample("paris", 1764801400), sample("berlin", 1764801500)
for _, r in ipairs({huge, fifo, other, good}) do assert(report.outbox_write(out, r)) end
sh("cp " .. out .. "/outbox/" .. good.id .. ".json " .. out .. "/outbox/" .. other.id .. ".json " .. stick .. "/")
t.ok(sh("truncate -s 200M " .. stick .. "/" .. huge.id .. ".json"), "a 200 MB (sparse) report on the stick")
t.ok(sh("mkfifo " .. stick .. "/" .. fifo.id .. ".json"), "a FIFO in place of a report")
local f = assert(io.open(stick .. "/berlin-torn.json", "wb"))
f:write('{"schema": 1, "kind": "rep')
f:close()
sh("cp " .. stick .. "/" .. r1.id .. ".json " .. stick .. "/berlin-copy.json")
local text = assert(io.open(stick .. "/" .. good.id .. ".json")):read("a")
f = assert(io.open(stick .. "/evil.json", "wb"))
f:write((text:gsub('"id": "[^"]*"', '"id": "../../evil"')))
f:close()
f = assert(io.open(stick .. "/status.json", "wb"))
f:write('{"running": false}\n')
f:close()
local heap0 = collectgarbage("count")
s = assert(report.collect(stick, "berlin", dests, tmp .. "/state"))
t.ok(collectgarbage("count") - heap0 < 4096, "the huge file costs no memory")
t.same({s.reports, s.delivered, s.already, #s.bad}, {3, 1, 2, 5},
  "the good one goes, a copy under another name counts once, five are skipped")
local why = {}
for _, b in ipairs(s.bad) do why[b.file:match("[^/]+$")] = b.error end
t.like(why[huge.id .. ".json"], "over the report file limit", "the huge one: its size and the limit")
t.like(why[fifo.id .. ".json"], "is not a regular file", "the FIFO: not opened")
t.like(why["berlin-torn.json"], "unexpected end of input", "the torn one: where it breaks")
t.like(why[other.id .. ".json"], "a report of site paris in the folder of site berlin", "another site's")
t.like(why["evil.json"], "its id is not a kedge report id", "an id that would name a marker elsewhere")
t.ok(not kos.stat(tmp .. "/evil.done-dir-" .. report.fnv(tmp .. "/upstream")) and
  not kos.stat(tmp .. "/upstream/kedge-reports/evil.json"), "and nothing is written by it")
t.same(s.other, {stick .. "/status.json"}, "a JSON file that is no report is left alone, named")
t.ok(kos.stat(stick .. "/berlin-torn.json") and not kos.stat(stick .. "/berlin-torn.json.bad"),
  "nothing on the stick is renamed")
t.ok(kos.stat(tmp .. "/upstream/kedge-reports/berlin/" .. good.id .. ".json"), "the good one arrived")

-- bootstrap writes the newest report as report.json, with bootstrap.json beside it
sh("rm -f " .. stick .. "/*")
local newest = sample("berlin", 1764801600)
assert(report.outbox_write(out, newest))
sh("cp " .. out .. "/outbox/" .. newest.id .. ".json " .. stick .. "/report.json")
f = assert(io.open(stick .. "/bootstrap.json", "wb"))
f:write('{"site": "berlin", "steps": [], "pass": {"code": 0}}\n')
f:close()
s = assert(report.collect(stick, "berlin", dests, tmp .. "/state"))
t.same({s.reports, s.delivered, #s.bad, #s.other}, {1, 1, 0, 1}, "report.json goes, bootstrap.json is no report")
t.ok(kos.stat(stick .. "/" .. newest.id .. ".done-dir-" .. report.fnv(tmp .. "/upstream")),
  "its marker is named by its id")
s = assert(report.collect(stick, "berlin", dests, tmp .. "/state"))
t.same({s.reports, s.delivered, s.already}, {1, 0, 1}, "and it goes once")

sh("rm -rf " .. tmp)
t.done()

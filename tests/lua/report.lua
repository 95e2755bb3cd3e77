-- kedge.report without a network: the JSON schema, ids, redaction, JUnit,
-- the outbox (atomic files, bounds, compaction, markers) and the dir
-- destination. Webhook and git-branch delivery: tests/e2e/t0750-report.sh.
local t = dofile("tests/tap.lua")
local report = require "kedge.report"
local json = require "kedge.json"
local kos = require "kedge.os"

local tmp = os.tmpname()
os.remove(tmp)
local function sh(cmd) return os.execute(cmd) end
sh("mkdir -p " .. tmp)
local function cleanup() sh("rm -rf " .. tmp) end

local function read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

local function files(dir)
  return kos.read_dir(dir) or {}
end

local commit = "0123456789abcdef0123456789abcdef01234567"
local function sample(site, started, result, smoke)
  local r = report.new{site = site or "berlin-01", repo = "https://kedge:pa55word@git.example.org/site.git?private_token=abc#x",
    commit = commit, signature = {state = "verified", principal = "ops", key = "SHA256:xyz"},
    started = started or 1764800000, ref = "main"}
  report.add_bundle(r, {name = "web", chart = "charts/web", version = "1.2.0", status = "ok",
    created = {{kind = "Deployment", metadata = {namespace = "web", name = "web"}}, {kind = "Service", metadata = {namespace = "web", name = "web"}}},
    updated = 1, unchanged = 4, pruned = {{kind = "ConfigMap", metadata = {namespace = "web", name = "old"}}},
    budget = {bundle = "web", cpu_req = 500, memory_req = 268435456000},
    smoke = smoke or {
      {name = "answers", kind = "http", status = "passed", duration = 0.25, message = "HTTP 200", output = "ok"},
      {name = "port <8443> & \"tls\"", kind = "tcp", status = "failed", duration = 3, message = "connection refused",
       output = "dial https://admin:hunter22@10.0.0.1:8443 failed\1"},
    },
    errors = {"smoke test port failed"}})
  report.add_bundle(r, {name = "db", chart = "charts/db", version = "0.3.1", status = "ok",
    created = 0, updated = 0, unchanged = 3, pruned = 0})
  return r
end

-- --- schema ---------------------------------------------------------------
local r = sample()
t.like(r.id, "^berlin%-01%-20251203T221320Z%-0123456%-%x%x%x%x%x%x%x%x$", "id: site, start time (UTC), commit, random")
t.ok(sample().id ~= r.id, "two reports of the same pass start get different ids")
report.finish(r, "smoke-failed", 1764800042)
local d = assert(json.decode(report.json(r)))
t.is(d.schema, 1, "schema version")
t.is(d.kind, "report", "kind")
t.is(d.site, "berlin-01", "site")
t.is(d.repo, "https://git.example.org/site.git", "repo URL without userinfo, query or fragment")
t.is(d.commit, commit, "commit")
t.is(d.ref, "main", "ref")
t.is(d.signature.state, "verified", "signature state")
t.is(d.signature.principal, "ops", "signature principal")
t.is(d.started, "2025-12-03T22:13:20Z", "started in RFC 3339 UTC")
t.is(d.finished, "2025-12-03T22:14:02Z", "finished in RFC 3339 UTC")
t.is(d.duration, 42, "duration in seconds")
t.is(d.result, "smoke-failed", "result")
t.is(#d.bundles, 2, "bundles")
local web = d.bundles[1]
t.is(web.name .. " " .. web.chart .. " " .. web.version, "web charts/web 1.2.0", "bundle name, chart, version")
t.is(string.format("%d %d %d %d", web.created, web.updated, web.unchanged, web.pruned), "2 1 4 1",
  "objects created/updated/unchanged/pruned (counts of lists or numbers)")
t.is(web.objects.created[1], "Deployment/web/web", "created objects are named")
t.is(web.objects.pruned[1], "ConfigMap/web/old", "pruned objects are named")
t.is(web.budget.cpu_req, 500, "budget row kept")
t.is(#web.smoke, 2, "smoke results")
t.is(web.smoke[2].status, "failed", "smoke status")
t.is(web.smoke[2].duration, 3, "smoke duration")
t.is(web.errors[1], "smoke test port failed", "bundle errors")
t.is(d.smoke.total .. "/" .. d.smoke.failed, "2/1", "smoke totals")
t.is(#d.bundles[2].smoke, 0, "a bundle without tests has an empty list")
t.like(report.json(r), '"smoke": %[%]', "empty lists encode as []")
t.is(d.kedge.version, require("kedge").version, "kedge version")

t.ok(not pcall(report.finish, sample(), "great"), "an unknown result raises")
t.ok(not pcall(report.new, {}), "a report without a site raises")
for _, res in ipairs({"ok", "failed", "budget-refused", "apply-failed", "smoke-failed"}) do
  t.is(report.finish(sample(), res).result, res, "result " .. res)
end

-- --- redaction --------------------------------------------------------------
local text = report.json(r)
t.ok(not text:find("pa55word", 1, true), "repo password is not in the report")
t.ok(not text:find("hunter22", 1, true), "URL password inside smoke output is not in the report")
t.ok(not text:find("private_token", 1, true), "query string tokens are not in the report")
t.like(text, "https://%[redacted%]@10%.0%.0%.1:8443", "userinfo in text is replaced")
t.is(report.redact("Authorization: Bearer eyJhbGciOi.abc-def"), "Authorization: [redacted]", "Authorization header")
t.is(report.redact("curl -H 'Bearer abc.def_ghi'"), "curl -H 'Bearer [redacted]'", "bearer token")
t.is(report.redact("password=s3cr3t&user=x"), "password=[redacted]&user=x", "password= value")
t.is(report.redact('{"token": "abcd"}'), '{"token": "[redacted]"}', "JSON token value")
t.is(report.redact("Password: hunter2 and API_KEY=zz9"), "Password: [redacted] and API_KEY=[redacted]", "keys in any case")
t.is(report.redact("3 tokens left"), "3 tokens left", "ordinary words stay")
t.is(report.redact("cannot read /etc/kedge/report.token: No such file"), "cannot read /etc/kedge/report.token: No such file",
  "a token file's path in an error stays")
t.is(report.redact("{token: abc, user: x}"), "{token: [redacted], user: x}", "YAML flow key")
t.is(report.redact('{"access_token":"xyz"}'), '{"access_token":"[redacted]"}', "a JSON key ending in token")
t.is(report.redact("?private_token=abc&x=1"), "?private_token=[redacted]&x=1", "a query parameter ending in token")
t.is(report.redact("-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----"), "[redacted private key]", "private key block")
report.secret("correct-horse-battery")
local r2 = sample()
report.add_bundle(r2, {name = "leaky", status = "failed", errors = {"helm test printed correct-horse-battery"}})
report.finish(r2, "failed")
t.ok(not report.json(r2):find("correct-horse", 1, true), "a registered secret is removed everywhere")
t.like(report.json(r2), "helm test printed %[redacted%]", "and replaced with a marker")
t.ok(not pcall(report.secret, 42), "report.secret takes strings")

-- --- JUnit ------------------------------------------------------------------
local junit = report.junit(r)
t.like(junit, '^<%?xml version="1.0" encoding="UTF%-8"%?>\n<testsuites name="kedge berlin%-01 ', "JUnit header")
t.like(junit, '<testsuites [^>]*tests="2" failures="1"', "totals")
t.like(junit, '<testsuite name="web" tests="2" failures="1" errors="0" skipped="0" time="3.250"', "one suite per bundle with tests")
t.ok(not junit:find('testsuite name="db"', 1, true), "no suite for a bundle without tests")
t.like(junit, '<testcase name="port &lt;8443&gt; &amp; &quot;tls&quot;" classname="web.tcp" time="3.000">', "names escaped")
t.like(junit, '<failure message="connection refused" type="tcp">dial https://%[redacted%]@10.0.0.1:8443 failed%?</failure>',
  "failure with redacted output and control characters replaced")
t.like(junit, "<system%-out>ok</system%-out>", "passed test output")
t.is(report.junit(report.finish(report.new{site = "x", started = 1}, "ok")), nil, "no tests, no JUnit")
local long = sample(nil, nil, nil, {{name = "big", kind = "exec", status = "failed", output = string.rep("x", 10000)}})
report.finish(long, "failed")
local ld = json.decode(report.json(long))
t.like(ld.bundles[1].smoke[1].output, "^x+\n%[5904 more bytes%]$", "smoke output is bounded")

-- --- outbox -----------------------------------------------------------------
local state = tmp .. "/state"
local path = assert(report.outbox_write(state, r))
t.is(path, state .. "/outbox/" .. r.id .. ".json", "outbox_write returns the file")
t.is(read(path), report.json(r), "the outbox holds the report's JSON")
t.is(read(state .. "/outbox/" .. r.id .. ".junit.xml"), junit, "and its JUnit XML")
t.ok(not pcall(report.outbox_write, state, sample()), "an unfinished report raises")
-- a write that died before its rename
local f = io.open(state .. "/outbox/" .. r.id .. ".json.tmp.2147483647", "w")
f:write("{half")
f:close()
-- and one of a write in progress (this process's pid)
local me = io.open("/proc/self/stat"):read("n")
f = io.open(state .. "/outbox/" .. r.id .. ".json.tmp." .. me, "w")
f:write("{half")
f:close()
local list = assert(report.list(state))
t.is(#list, 1, "list: one report")
t.is(list[1].pending, true, "pending until delivered")
t.is(list[1].result, "smoke-failed", "list shows the result")
t.ok(not read(state .. "/outbox/" .. r.id .. ".json.tmp.2147483647"), "a leftover temp file is removed")
t.ok(read(state .. "/outbox/" .. r.id .. ".json.tmp." .. me) ~= nil, "one of a running process is not")
os.remove(state .. "/outbox/" .. r.id .. ".json.tmp." .. me)

local shown, stext, sjunit = report.show(state, r.id:sub(1, 28))
t.is(shown and shown.id, r.id, "show by id prefix")
t.is(stext, report.json(r), "show gives the JSON text")
t.is(sjunit, junit, "and the JUnit XML")
t.is((report.show(state)).id, r.id, "show without an id: the newest")
local none, nerr = report.show(state, "nope")
t.ok(none == nil and nerr:find("no report nope"), "show of an unknown id: nil, err")

-- dir destination: missing stick, then present
local stick = tmp .. "/stick"
local sum = assert(report.deliver(state, {{dir = stick}}))
t.is(sum.delivered, 0, "dir missing: nothing delivered")
t.is(#sum.failed, 1, "one failure")
t.like(sum.failed[1].error, "is not there %(is the stick mounted%?%)", "saying the stick is missing")
t.is(sum.pending, 1, "the report stays pending")
t.ok(read(path) ~= nil, "and in the outbox")
sh("mkdir -p " .. stick)
sum = assert(report.deliver(state, {{dir = stick}}))
t.is(sum.delivered, 1, "stick present: delivered")
t.is(sum.pending, 0, "nothing pending")
t.is(read(stick .. "/kedge-reports/berlin-01/" .. r.id .. ".json"), report.json(r), "the stick holds the report")
t.is(read(stick .. "/kedge-reports/berlin-01/" .. r.id .. ".junit.xml"), junit, "and its JUnit XML")
t.ok(not read(path), "a delivered report leaves the outbox")
t.ok(read(state .. "/reports/" .. r.id .. ".json") ~= nil, "and is kept in STATE/reports")
list = report.list(state)
t.is(list[1].pending, false, "list: delivered")
t.is(list[1].delivered[1], "dir " .. stick, "list: where it went")
sum = assert(report.deliver(state, {{dir = stick}}))
t.is(sum.delivered, 0, "nothing to deliver twice")

-- partial delivery: one destination works, one does not
local r3 = report.finish(sample("berlin-01", 1764800100), "ok")
assert(report.outbox_write(state, r3))
local stick2 = tmp .. "/stick2"
sum = assert(report.deliver(state, {{dir = stick}, {dir = stick2}}))
t.is(sum.delivered .. " " .. #sum.failed .. " " .. sum.pending, "1 1 1", "one destination done, one failed")
local markers = 0
for _, n in ipairs(files(state .. "/outbox")) do if n:find(".done-dir-", 1, true) then markers = markers + 1 end end
t.is(markers, 1, "a marker records the done destination")
os.remove(stick .. "/kedge-reports/berlin-01/" .. r3.id .. ".json")
sh("mkdir -p " .. stick2)
sum = assert(report.deliver(state, {{dir = stick}, {dir = stick2}}))
t.is(sum.delivered, 1, "next pass: only the missing destination")
t.ok(read(stick2 .. "/kedge-reports/berlin-01/" .. r3.id .. ".json") ~= nil, "the second stick has it")
t.ok(not read(stick .. "/kedge-reports/berlin-01/" .. r3.id .. ".json"), "the first is not written again")

local r4 = report.finish(sample("berlin-01", 1764800200), "ok")
assert(report.outbox_write(state, r4))
sum = assert(report.deliver(state, {{webhook = "http://127.0.0.1:9/x", ["token-file"] = "/nonexistent"}}))
t.like(sum.failed[1] and sum.failed[1].error, "a token goes over HTTPS only", "no token over plain HTTP")
sum = assert(report.deliver(state, {{webhook = "https://127.0.0.1:9/x", ["token-file"] = tmp .. "/missing.token"}}))
t.like(sum.failed[1] and sum.failed[1].error, "cannot read .*missing%.token: No such file", "a missing token file is a failure, named")
-- one kedge at a time on an outbox (flock, so also within one process)
local held = assert(kos.lock(state .. "/outbox.lock"))
local t0 = kos.monotonic()
local none2, lerr = report.deliver(state, {{dir = stick}}, {lock_timeout = 0.3})
t.ok(none2 == nil and lerr:find("another kedge holds .*outbox%.lock"), "deliver waits for the outbox lock, then says who has it")
t.ok(kos.monotonic() - t0 >= 0.3, "after the timeout")
none2, lerr = report.outbox_write(state, report.finish(sample(), "ok"), {lock_timeout = 0})
t.ok(none2 == nil and lerr:find("another kedge holds"), "so does outbox_write")
held:unlock()
t.ok(report.deliver(state, {}, {lock_timeout = 0}) ~= nil, "free again after unlock")
t.ok(report.deliver(tmp .. "/never-made", {{dir = stick}}) ~= nil, "no state folder: nothing to deliver")
local bad, berr = report.deliver(state, {{webhook = "ftp://x"}})
t.ok(bad == nil and berr:find("report destination 1: webhook: an http%(s%)://"), "a webhook needs an http(s) URL")
bad = report.deliver(state, {{ftp = "x"}})
t.ok(bad == nil, "an unknown destination: nil, err")
t.ok(not pcall(report.deliver, 5), "a wrong state argument raises")

-- --- bounds and compaction ----------------------------------------------------
local bstate = tmp .. "/bounded"
local ids = {}
for i = 1, 8 do
  local ri = report.finish(sample("berlin-01", 1764800000 + i * 60, nil, {}), i % 2 == 0 and "ok" or "apply-failed")
  ids[i] = ri.id
  assert(report.outbox_write(bstate, ri, {max_reports = 5}))
end
local names = files(bstate .. "/outbox")
local jsons, summary = 0, nil
for _, n in ipairs(names) do
  if n:match("%.json$") then
    jsons = jsons + 1
    if n:find("%-summary%-") then summary = n end
  end
end
t.is(jsons, 5, "the outbox stays at its bound of 5 reports")
t.ok(summary ~= nil, "the oldest are compacted into a summary record")
local sd = json.decode(read(bstate .. "/outbox/" .. summary))
t.is(sd.kind, "summary", "summary kind")
t.is(sd.count, 4, "it stands for 4 reports")
t.is(#sd.reports, 4, "each listed")
t.is(sd.reports[1].id, ids[1], "oldest first, by id")
t.is(sd.reports[1].result, "apply-failed", "with its result")
t.is(sd.results["apply-failed"] .. "/" .. sd.results.ok, "2/2", "counts by result")
t.like(sd.reason, "more than its bound of 5 reports", "and why")
t.ok(read(bstate .. "/outbox/" .. ids[8] .. ".json") ~= nil, "the newest report is kept whole")
t.ok(not read(bstate .. "/outbox/" .. ids[1] .. ".json"), "a compacted report's file is gone")
t.is((report.list(bstate))[1].id, sd.id, "the summary sorts first")
-- a second compaction folds the first summary in
for i = 9, 12 do
  assert(report.outbox_write(bstate, report.finish(sample("berlin-01", 1764800000 + i * 60, nil, {}), "ok"), {max_reports = 5}))
end
local sums = {}
for _, n in ipairs(files(bstate .. "/outbox")) do if n:find("%-summary%-.*%.json$") then sums[#sums + 1] = n end end
t.is(#sums, 1, "one summary after a second compaction")
sd = json.decode(read(bstate .. "/outbox/" .. sums[1]))
t.is(sd.count, 8, "it stands for every compacted report")
t.is(#sd.reports, 8, "listing them all")
-- by size
local sstate = tmp .. "/sized"
for i = 1, 4 do
  assert(report.outbox_write(sstate, report.finish(sample("berlin-01", 1764800000 + i), "ok"), {max_bytes = 9000}))
end
local total = 0
for _, n in ipairs(files(sstate .. "/outbox")) do total = total + #read(sstate .. "/outbox/" .. n) end
t.ok(total <= 9000, "the outbox stays within its byte bound (" .. total .. " bytes)")
-- summaries are delivered like reports
sum = assert(report.deliver(bstate, {{dir = stick}}))
t.is(sum.pending, 0, "a compacted outbox drains")
t.ok(read(stick .. "/kedge-reports/berlin-01/" .. sd.id .. ".json") ~= nil, "the summary is delivered too")

-- --- sent reports are bounded --------------------------------------------------
local kept = 0
for _, n in ipairs(files(bstate .. "/reports")) do if n:match("%.json$") then kept = kept + 1 end end
t.ok(kept <= report.KEEP_SENT, "STATE/reports keeps at most " .. report.KEEP_SENT .. " delivered reports")

-- no destinations: delivered trivially (nothing left in the outbox forever)
local nstate = tmp .. "/nodest"
assert(report.outbox_write(nstate, report.finish(sample(), "ok")))
sum = assert(report.deliver(nstate, {}))
t.is(sum.pending, 0, "with no destinations a report is done at once")

-- --- a hostile outbox: one huge, one garbled, one not a file --------------
-- (findings 10 and 11 of issue 21: a 200 MB report made every delivery and
-- `report list` fail with "not enough memory", and unreadable reports were
-- hidden from the list)
local hstate = tmp .. "/hostile"
local good1 = report.finish(sample("berlin-01", 1764801000), "ok")
local huge = report.finish(sample("berlin-01", 1764801100), "ok")
local garbled = report.finish(sample("berlin-01", 1764801200), "ok")
local fifo = report.finish(sample("berlin-01", 1764801300), "ok")
local good2 = report.finish(sample("berlin-01", 1764801400), "ok")
for _, x in ipairs({good1, huge, garbled, fifo, good2}) do assert(report.outbox_write(hstate, x)) end
local hbox = hstate .. "/outbox/"
t.ok(sh("truncate -s 200M " .. hbox .. huge.id .. ".json"), "a 200 MB (sparse) report in the outbox")
local gf = assert(io.open(hbox .. garbled.id .. ".json", "wb"))
gf:write("{\"id\": ") gf:close()
os.remove(hbox .. fifo.id .. ".json")
t.ok(sh("mkfifo " .. hbox .. fifo.id .. ".json"), "and a FIFO in place of a report")
t.is(report.MAX_FILE, require("kedge.limits").report_file_bytes, "the bound is kedge.limits.report_file_bytes")
local heap0 = collectgarbage("count")
local hl = assert(report.list(hstate))
t.is(#hl, 5, "list shows all five reports, the unreadable ones too")
local unread = {}
for _, e in ipairs(hl) do if e.unreadable then unread[e.id] = e.unreadable end end
t.like(unread[huge.id], "is 209715200 bytes, over the report file limit of %d+ bytes %(KD_LIMIT_REPORT_FILE_BYTES%)",
  "the huge one is listed unreadable, with its size and the limit")
t.ok(unread[garbled.id] and unread[garbled.id]:find(garbled.id, 1, true), "the garbled one is listed unreadable, named")
t.like(unread[fifo.id], "is not a regular file", "the FIFO is listed unreadable (and not opened)")
t.is(hl[2].id, huge.id, "unreadable ones keep their place by the time in their id")
local sok, serr = report.show(hstate, huge.id)
t.ok(sok == nil and serr:find("is unreadable"), "show of an unreadable report: nil, err")
local hstick = tmp .. "/hstick"
sh("mkdir -p " .. hstick)
sum = assert(report.deliver(hstate, {{dir = hstick}}))
t.ok((collectgarbage("count") - heap0) < 65536, "list and deliver did not read the huge file (heap grew " ..
  math.floor(collectgarbage("count") - heap0) .. " KiB)")
t.is(sum.delivered .. " " .. sum.pending, "2 0", "the two good reports are delivered, nothing is left pending")
for _, x in ipairs({good1, good2}) do
  t.ok(read(hstick .. "/kedge-reports/berlin-01/" .. x.id .. ".json") ~= nil, "delivered: " .. x.id)
end
for _, x in ipairs({huge, garbled, fifo}) do
  t.ok(kos.stat(hbox .. x.id .. ".json.bad") ~= nil and not kos.stat(hbox .. x.id .. ".json"),
    "quarantined as .bad: " .. x.id)
end
hl = assert(report.list(hstate))
t.is(#hl, 2, "once quarantined, list shows the delivered two")
os.remove(hbox .. huge.id .. ".json.bad")

cleanup()
t.done()

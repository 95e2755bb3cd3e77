-- kedge.smoke without servers: declarations and their errors, the order
-- and delete policies of helm test hooks, lua and exec tests (real
-- commands), retries, bounded output, secrets kept out of results, and the
-- JUnit XML. HTTP(S), TCP listeners and the Kubernetes kinds run against
-- real servers in tests/e2e/t0740-smoke.sh.
local t = dofile("tests/tap.lua")
local smoke = require "kedge.smoke"
local yaml = require "kedge.yaml"
local regex = require "kedge.regex"
local proc = require "kedge.proc"

-- --- kedge.regex ---------------------------------------------------------------
t.is(regex.match("^ok\\b", "ok then"), true, "regex: anchors and \\b")
t.is(regex.match("(?i)HEALTHY", "status: healthy"), true, "regex: (?i)")
t.is(regex.match("^a+$", "aab"), false, "regex: no match is false")
local m, err = regex.match("x[", "x")
t.ok(m == nil and err:find("missing closing %]"), "regex: a bad pattern is nil, err")
m, err = regex.match("(a*)*b", string.rep("a", 5000))
t.is(m, false, "regex: a pathological pattern for a backtracker answers false (linear time)")
t.ok(not pcall(regex.match, {}, "x"), "regex: a non-string pattern raises")

-- --- declarations -------------------------------------------------------------------
local decl = assert(yaml.decode([[
- name: web answers
  type: http
  url: https://127.0.0.1:8443/healthz
  status: 200
  body: "ok|ready"
  headers: {X-Probe: kedge}
  retries: 3
  backoff: 0.5
  ca-file: /etc/kedge/ca.pem
- name: db port
  type: tcp
  host: 127.0.0.1
  port: 5432
- name: disk
  type: exec
  command: [df, -h, /]
  timeout: 10
- name: deployment available
  type: condition
  object: {apiVersion: apps/v1, kind: Deployment, name: web}
  condition: Available
  status: "True"
- name: chart tests
  type: helm-test
- name: custom
  type: lua
  function: check_web
- name: web
  type: condition
  apiVersion: apps/v1
  kind: Deployment
  timeout: 120
]]))
t.is(smoke.validate(decl, "bundles/web/bundle.yaml"), true, "validate: one test of each kind from YAML (condition in both forms)")
t.is(smoke.validate(nil), true, "validate: no smoke tests is fine")

local ok
ok, err = smoke.validate(assert(yaml.decode([[
- name: a
  type: http
  url: ftp://x
  stauts: 200
- name: a
  type: condition
  object: {apiVersion: v1, kind: Pod, nmae: p}
  status: True
- type: exec
  command: "ls -l"
- name: d
  type: ping
- name: e
  type: tcp
  host: h
  port: 70000
  retries: 99
- name: f
  type: http
  url: http://x/
  body: "a("
- name: g
  type: condition
  kind: Deployment
- name: h
  type: condition
  apiVersion: v1
  kind: Pod
  object: {apiVersion: v1, kind: Pod, name: p}
]])), "bundles/web/bundle.yaml")
t.is(ok, nil, "validate: problems fail")
t.like(err, "bundles/web/bundle.yaml: smoke%[1%] 'a': unknown key 'stauts' for type http %(known: name, type, backoff, body", "validate: an unknown key names the known ones")
t.like(err, "smoke%[1%] 'a': url must start with http:// or https://", "validate: the URL scheme")
t.like(err, "smoke%[2%] 'a': the name is used by smoke%[1%] too", "validate: duplicate names")
t.like(err, "smoke%[2%] 'a': status must be \"True\", \"False\" or \"Unknown\" %(quoted in YAML%)", "validate: an unquoted True is a YAML boolean")
t.like(err, "smoke%[2%] 'a': object has an unknown key 'nmae' %(known: apiVersion, kind, name, namespace%)", "validate: the condition's object")
t.like(err, "smoke%[7%] 'g': type condition needs apiVersion and kind %(the object is the one named like the test%)", "validate: condition without apiVersion")
t.like(err, "smoke%[8%] 'h': give the object either as object", "validate: condition in both forms at once")
t.like(err, "smoke%[3%]: name must be a non%-empty string", "validate: a missing name")
t.like(err, "smoke%[3%]: command must be a non%-empty list of strings", "validate: a command is a list, not a shell line")
t.like(err, "smoke%[4%] 'd': type must be one of http, tcp, exec, condition, helm%-test or lua, not 'ping'", "validate: an unknown type")
t.like(err, "smoke%[5%] 'e': port must be a port from 1 to 65535", "validate: port range")
t.like(err, "smoke%[5%] 'e': retries must be a whole number from 0 to 10", "validate: retries are bounded")
t.like(err, "smoke%[6%] 'f': body is not a valid regular expression: error parsing regexp: missing closing %)", "validate: the body regex compiles")
ok, err = smoke.validate("x")
t.like(err, "smoke must be a list of tests", "validate: not a list")

-- --- running: lua, exec, tcp, invalid ------------------------------------------------
local lines = {}
local function logf(msg, fields) lines[#lines + 1] = msg .. " " .. tostring(fields and fields.test) end
local ctx = {bundle = "web", namespace = "web", log = logf, allow_exec = true, funcs = {
  good = function(c, test) return true, "all fine in " .. c.bundle .. " for " .. test.name end,
  bad = function() return nil, "the queue is stuck" end,
  falsy = function() return false end,
  boom = function() error("kaput", 0) end,
  quiet = function() end,
}}
local res = smoke.run(assert(yaml.decode([[
- {name: l1, type: lua, function: good}
- {name: l2, type: lua, function: bad}
- {name: l3, type: lua, function: falsy}
- {name: l4, type: lua, function: boom}
- {name: l5, type: lua, function: quiet}
- {name: l6, type: lua, function: missing}
- {name: x1, type: exec, command: ["true"]}
- {name: x2, type: exec, command: [sh, -c, "echo to-out; echo to-err >&2; exit 3"]}
- {name: x3, type: exec, command: [sh, -c, "exit 3"], status: 3}
- {name: x4, type: exec, command: [sleep, "5"], timeout: 0.3}
- {name: x5, type: exec, command: [sh, -c, "head -c 100000 /dev/zero | tr '\\0' a; echo THE-END"]}
- {name: x6, type: exec, command: [kedge-no-such-program]}
- {name: bad, type: tcp, host: 127.0.0.1}
]])), ctx)
t.is(#res, 13, "run: one result per test")
local by = {}
for _, r in ipairs(res) do by[r.name] = r end
t.same({by.l1.status, by.l1.kind, by.l1.message}, {"passed", "lua", "all fine in web for l1"}, "lua: passes with its message, gets ctx and the test")
t.same({by.l2.status, by.l2.message}, {"failed", "the queue is stuck"}, "lua: nil, message fails")
t.same({by.l3.status, by.l3.message}, {"failed", "returned false"}, "lua: false fails")
t.same({by.l4.status, by.l4.message}, {"failed", "raised: kaput"}, "lua: an error fails with its message")
t.is(by.l5.status, "passed", "lua: returning nothing passes")
t.like(by.l6.message, "no Lua function 'missing'", "lua: an unknown function fails")
t.same({by.x1.status, by.x1.message}, {"passed", "true: exit status 0"}, "exec: true passes")
t.same({by.x2.status, by.x2.message, by.x2.output}, {"failed", "sh -c echo to-out; echo to-err >&2; exit 3: exit status 3, expected 0", "to-out\nto-err\n"},
  "exec: exit 3 fails, stdout and stderr captured in order")
t.is(by.x3.status, "passed", "exec: an expected status other than 0")
t.ok(by.x4.status == "failed" and by.x4.message:find("timed out after 0.3s and was killed")
  and by.x4.duration < 2, "exec: a timeout kills the command")
t.ok(by.x5.status == "passed" and #by.x5.output <= smoke.OUTPUT_BYTES and by.x5.output:find("THE%-END\n$"),
  "exec: output is bounded to its tail")
t.like(by.x5.output, string.format("^%%[%d earlier bytes of output left out%%]\naaa", 100008 - (smoke.OUTPUT_BYTES - 64)),
  "exec: the output says how much was left out")
t.like(by.x6.message, "cannot run kedge%-no%-such%-program: No such file or directory %(not found in PATH%)", "exec: a missing program")
t.like(by.bad.message, "^invalid test: type tcp needs port", "run: an invalid test fails, not raises")
for _, r in ipairs(res) do
  if type(r.duration) ~= "number" or r.duration < 0 then t.ok(false, "duration of " .. r.name) end
end
t.like(table.concat(lines, "\n"), "smoke test failed l2", "run: progress goes to ctx.log")

res = smoke.run({{name = "x", type = "exec", command = {"true"}}}, {bundle = "web", log = logf})
t.like(res[1].message, "exec tests are off for this site: set `exec: true`", "exec: refused unless allow_exec")

-- tcp against a port nothing listens on, with retries and backoff
local started = require("kedge.os").monotonic()
res = smoke.run({{name = "closed", type = "tcp", host = "127.0.0.1", port = 1, retries = 2, backoff = 0.2}}, ctx)
local took = require("kedge.os").monotonic() - started
t.like(res[1].message, "cannot connect to 127%.0%.0%.1:1: Connection refused %(after 3 attempts%)", "tcp: refused, after every attempt")
t.ok(took >= 0.55 and took < 3, "retries: waits 0.2 then 0.4 seconds (took " .. took .. ")")
t.is(#lines >= 2 and lines[#lines - 1]:match("^smoke attempt failed"), "smoke attempt failed", "retries: each failed attempt is logged")

-- token files (that secrets are kept out of results is checked against a
-- server that echoes them, in tests/e2e/t0740-smoke.sh)
local tokfile = os.tmpname()
local f = assert(io.open(tokfile, "w"))
f:write("tok-very-secret-123\n")
f:close()
res = smoke.run({
  {name = "h", type = "http", url = "http://127.0.0.1:1/", ["token-file"] = tokfile,
   headers = {["X-Api-Key"] = "hdr-secret-456"}, ["secret-headers"] = {"x-api-key"}},
}, ctx)
t.like(res[1].message, "^GET http://127%.0%.0%.1:1/: .*refused", "http: a refused connection names the URL")
os.remove(tokfile)
res = smoke.run({{name = "nofile", type = "http", url = "http://127.0.0.1:1/", ["token-file"] = tokfile}}, ctx)
t.like(res[1].message, "cannot read token%-file", "http: a missing token file fails the test")

-- --- helm test hooks -----------------------------------------------------------------
local function pod(name, anns)
  return {apiVersion = "v1", kind = "Pod", metadata = {name = name, annotations = anns}, spec = {}}
end
local hooks = smoke.test_hooks({
  pod("z-test", {["helm.sh/hook"] = "test"}),
  pod("a-test", {["helm.sh/hook"] = "test", ["helm.sh/hook-weight"] = "5"}),
  {source = "c/templates/t.yaml", value = pod("m-test", {["helm.sh/hook"] = "test-success",
    ["helm.sh/hook-delete-policy"] = "hook-succeeded, hook-failed"})},
  {apiVersion = "v1", kind = "ConfigMap", metadata = {name = "y-cfg", annotations = {["helm.sh/hook"] = "pre-install,test"}}},
  pod("install-hook", {["helm.sh/hook"] = "post-install"}),
  pod("plain"),
  require("kedge").null, -- an empty YAML document
  {apiVersion = "v1", kind = "Widget", metadata = {name = "w", annotations = {["helm.sh/hook"] = "test"}}},
})
local names = {}
for _, h in ipairs(hooks) do names[#names + 1] = h.kind .. "/" .. h.name end
t.same(names, {"ConfigMap/y-cfg", "Pod/m-test", "Pod/z-test", "Widget/w", "Pod/a-test"},
  "helm-test: test hooks only (test, test-success), by weight, install order, name; empty documents skipped")
t.same(hooks[3].policies, {["before-hook-creation"] = true}, "helm-test: before-hook-creation is the default policy")
t.same(hooks[2].policies, {["hook-succeeded"] = true, ["hook-failed"] = true}, "helm-test: listed policies replace the default")
res = smoke.run({{name = "ht", type = "helm-test"}}, ctx)
t.same({res[1].status, res[1].message}, {"failed", "no Kubernetes client: helm-test needs the cluster"}, "helm-test: needs a cluster")

-- --- JUnit -----------------------------------------------------------------------------
local xml = smoke.junit({
  {name = "web & co", results = {
    {name = "a<b", kind = "http", status = "passed", duration = 0.25, message = "ok", output = "body \"x\" 'y'"},
    {name = "c", kind = "exec", status = "failed", duration = 1, message = "exit 3 & <bad>", output = "bin\0ary\1\255 end"},
  }},
  {name = "db", results = {}},
})
t.like(xml, '^<%?xml version="1%.0" encoding="UTF%-8"%?>\n<testsuites name="kedge smoke" tests="2" failures="1" errors="0" time="1%.250">', "junit: totals")
t.like(xml, '<testsuite name="web &amp; co" tests="2" failures="1" errors="0" skipped="0" time="1%.250">', "junit: one suite per bundle, escaped")
t.like(xml, '<testcase name="a&lt;b" classname="web &amp; co%.http" time="0%.250">', "junit: testcase")
t.like(xml, '<system%-out>body &quot;x&quot; &apos;y&apos;</system%-out>', "junit: output escaped")
t.like(xml, '<failure message="exit 3 &amp; &lt;bad&gt;" type="exec">exit 3 &amp; &lt;bad&gt;</failure>', "junit: failure with message")
t.like(xml, "<system%-out>bin\u{FFFD}ary\u{FFFD}\u{FFFD} end</system%-out>", "junit: NUL, control and invalid UTF-8 bytes replaced")
t.like(xml, '<testsuite name="db" tests="0" failures="0"', "junit: an empty suite")
t.ok(utf8.len(xml), "junit: the document is valid UTF-8")
t.ok(not xml:find("[%z\1-\8\11\12\14-\31]"), "junit: no control characters XML forbids")
t.is(smoke.failed({{status = "passed"}, {status = "failed"}, {status = "failed"}}), 2, "failed(): counts")

-- --- kedge.proc directly ----------------------------------------------------------------
local r = assert(proc.run{argv = {"sh", "-c", "sleep 30 & echo started"}, timeout = 10})
t.ok(r.exited and r.status == 0 and r.output == "started\n" and r.duration < 5,
  "proc: a background child holding the pipe is killed soon after the command exits")
r = assert(proc.run{argv = {"sh", "-c", "kill -TERM $$"}, timeout = 5})
t.same({r.exited, r.signal}, {false, 15}, "proc: death by signal")
r = assert(proc.run{argv = {"sh", "-c", "head -c 300000 /dev/zero"}, timeout = 5, max_output = 10})
t.same({r.total, r.truncated, #r.output}, {300000, true, 10}, "proc: max_output keeps the tail, total counts all")
t.ok(not pcall(proc.run, {argv = {"true"}}), "proc: a timeout is required")
t.ok(not pcall(proc.run, {argv = {}, timeout = 1}), "proc: an empty argv raises")
t.ok(not pcall(proc.run, {argv = {"echo", 1}, timeout = 1}), "proc: argv must be strings")
m, err = proc.tcp_connect("no such host", 80, 1)
t.like(err, "invalid host 'no such host'", "proc: tcp_connect checks the host")
t.ok(not pcall(proc.tcp_connect, "h", 0, 1), "proc: port 0 raises")

t.done()

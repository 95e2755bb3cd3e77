-- kedge.os, the resident agent's part: signals through a signalfd, poll,
-- children (pipes, env, exit and signal status, process groups), exe,
-- sd_notify to a real datagram socket and a TCP listener with a real
-- client. Every wait is bounded; everything listens on 127.0.0.1 only.
local t = dofile("tests/tap.lua")
local kos = require "kedge.os"
local limits = require "kedge.limits"
local sandbox = require "kedge.sandbox"

local function my_pid()
  local f = assert(io.open("/proc/self/stat", "r"))
  local pid = tonumber(f:read("a"):match("^(%d+)"))
  f:close()
  return pid
end

local function alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat", "r")
  if not f then return false end
  local st = f:read("a"):match("^%d+ %b() (%a)")
  f:close()
  return st ~= "Z" -- a zombie has ended
end

-- Waits up to secs for cond() to hold.
local function eventually(cond, secs)
  local deadline = kos.monotonic() + (secs or 5)
  while kos.monotonic() < deadline do
    if cond() then return true end
    kos.sleep(0.02)
  end
  return cond()
end

-- All a child writes until end of file (at most secs seconds).
local function read_all(c, secs)
  local out, deadline = {}, kos.monotonic() + (secs or 30)
  while kos.monotonic() < deadline do
    local fd = c:stdout_fd()
    if not fd then break end
    kos.poll({fd}, deadline - kos.monotonic())
    local chunk = c:read()
    if chunk == nil then break end
    out[#out + 1] = chunk
  end
  return table.concat(out)
end

-- The first line a child writes (at most secs seconds), leaving it running.
local function read_line(c, secs)
  local buf, deadline = "", kos.monotonic() + (secs or 5)
  while not buf:find("\n") and kos.monotonic() < deadline do
    kos.poll({c:stdout_fd()}, deadline - kos.monotonic())
    local chunk = c:read()
    if not chunk then break end
    buf = buf .. chunk
  end
  return buf:match("^([^\n]*)")
end

local function run(argv, opts)
  local c = assert(kos.spawn(argv, opts or {stdout = "pipe"}))
  local out = read_all(c)
  return out, c:wait(true), c
end

-- ---- signals ----
local sig = kos.signals{"TERM", "INT", "HUP", "USR1", "CHLD"}
t.is(math.type(sig:fd()), "integer", "signals: an fd")
t.same(sig:read(), {}, "nothing pending: {}")
t.raises(function() kos.signals{"TERM", "NOPE"} end, "unknown signal 'NOPE'", "an unknown name raises")
t.raises(function() kos.signals{"KILL"} end, "cannot be caught", "KILL cannot be taken")

local me = my_pid()
local function got_signals(want, secs)
  local seen, deadline = {}, kos.monotonic() + (secs or 5)
  while kos.monotonic() < deadline do
    kos.poll({sig:fd()}, deadline - kos.monotonic())
    for _, name in ipairs(sig:read()) do seen[name] = true end
    local all = true
    for _, w in ipairs(want) do all = all and seen[w] end
    if all then break end
  end
  return seen
end
local k = assert(kos.spawn({"kill", "-USR1", tostring(me)}))
local seen = got_signals({"USR1", "CHLD"})
t.ok(seen.USR1, "a real SIGUSR1 is read back as USR1")
t.ok(seen.CHLD, "and the kill command's end as CHLD")
t.same(k:wait(true), {status = 0, signal = 0}, "kill exited 0")
run({"kill", "-HUP", tostring(me)})
run({"kill", "-TERM", tostring(me)})
seen = got_signals({"HUP", "TERM"})
t.ok(seen.HUP and seen.TERM, "HUP and TERM too, and kedge is still alive")
sig:read()
t.same(sig:read(), {}, "read drains what is pending")

-- ---- poll ----
local t0 = kos.monotonic()
t.same(kos.poll({sig:fd()}, 0.2), {}, "poll: nothing ready within the timeout")
local took = kos.monotonic() - t0
t.ok(took >= 0.19 and took < 2, string.format("it waited about the timeout (%.3f s)", took))
t0 = kos.monotonic()
t.same(kos.poll({sig:fd()}, 0), {}, "timeout 0 is a look")
t.ok(kos.monotonic() - t0 < 0.1, "that does not wait")
t0 = kos.monotonic()
t.same(kos.poll({}, 0.05), {}, "no fds: a bounded sleep")
t.ok(kos.monotonic() - t0 >= 0.045, "of the timeout")
local big = {}
for i = 1, limits.poll_fds + 1 do big[i] = sig:fd() end
t.raises(function() kos.poll(big, 0) end, "KD_LIMIT_POLL_FDS", "more fds than the limit raises")
t.raises(function() kos.poll({"x"}, 0) end, "must be an fd", "a non-fd raises")
t.raises(function() kos.poll({sig:fd()}) end, "number", "the timeout is required")

-- ---- spawn: env, pipes, status ----
local out, st = run({"/bin/sh", "-c", "echo $X"}, {stdout = "pipe", env = {X = "hello there"}})
t.is(out, "hello there\n", "spawn: env is passed and stdout piped")
t.same(st, {status = 0, signal = 0}, "exit 0")
out = run({"/bin/sh", "-c", "echo $HOME:${PATH:+path}"}, {stdout = "pipe", env = {HOME = "/nowhere"}})
t.is(out, "/nowhere:path\n", "env overrides a name and keeps the rest of the environment")
out = run({"sh", "-c", "cat; echo end"})
t.is(out, "end\n", "stdin is /dev/null, and PATH is searched")
local c
out, st, c = run({"sh", "-c", "exit 7"})
t.same(st, {status = 7, signal = 0}, "exit status 7")
t.ok(rawequal(c:wait(false), st) and rawequal(c:wait(true), st), "later waits return the same table")
t.ok(c:kill("TERM"), "kill after reaping is a no-op")
_, st = run({"sh", "-c", "kill -TERM $$"})
t.same(st, {status = 143, signal = 15}, "killed by SIGTERM: status 128 + 15")
-- kedge blocks USR1 itself; a child must get the default back
_, st = run({"sh", "-c", "kill -USR1 $$; echo survived"})
t.same(st, {status = 138, signal = 10}, "the child's signal mask and dispositions are reset")

local nothing, err = kos.spawn({"kedge-no-such-program", "x"})
t.ok(nothing == nil and err:find("kedge-no-such-program", 1, true), "a missing program: nil, err naming it")
t.like(err, "not found", "and why")
t.raises(function() kos.spawn({"true"}, {stdout = "file"}) end, "stdout must be", "a bad stdout raises")
t.raises(function() kos.spawn({"true", 3}) end, "argv%[2%]", "a non-string argument raises")
t.raises(function() kos.spawn({}) end, "1 to", "an empty argv raises")
t.raises(function() kos.spawn({"true"}, {env = {["A=B"] = "x"}}) end, "'='", "a bad env name raises")

-- nonblocking reads
c = assert(kos.spawn({"sh", "-c", "sleep 0.3; echo late"}, {stdout = "pipe"}))
t.is(c.pid > 0 and c:read(), "", "read: \"\" while nothing has come")
t.is(c:wait(false), nil, "wait(false): nil while it runs")
t.is(read_all(c), "late\n", "then the data, then end of file")
t.is(c:read(), nil, "nil at end of file")
t.is(c:stdout_fd(), nil, "and the pipe is closed then (no fd to poll)")
t.same(c:wait(true), {status = 0, signal = 0}, "wait(true) reaps it")
c = assert(kos.spawn({"true"}))
t.ok(c:stdout_fd() == nil and c:read() == nil, "without a pipe: no fd, read is nil")
c:wait(true)
c = assert(kos.spawn({"sh", "-c", "head -c 100000 /dev/zero"}, {stdout = "pipe"}))
t.is(#read_all(c), 100000, "large output arrives whole, in pieces")
c:wait(true)
t.raises(function() c:read(limits.child_read_bytes + 1) end, "KD_LIMIT_CHILD_READ_BYTES", "read max is bounded")

-- kill: a child, or its whole session
c = assert(kos.spawn({"sleep", "30"}))
t.ok(c:kill("KILL"), "kill KILL")
t.same(c:wait(true), {status = 137, signal = 9}, "killed: signal 9")
t.raises(function() c:kill("NOPE") end, "unknown signal", "an unknown signal raises")
local script = "sleep 30 & echo $!; wait"
c = assert(kos.spawn({"sh", "-c", script}, {stdout = "pipe", setsid = true}))
local grandchild = tonumber(read_line(c))
t.ok(grandchild and alive(grandchild), "setsid: the child started a grandchild")
t.ok(c:kill("TERM"), "kill TERM the session")
t.same(c:wait(true), {status = 143, signal = 15}, "the child ended by SIGTERM")
t.ok(eventually(function() return not alive(grandchild) end), "and the grandchild too")
c = assert(kos.spawn({"sh", "-c", script}, {stdout = "pipe"}))
grandchild = tonumber(read_line(c))
c:kill("TERM")
c:wait(true)
t.ok(grandchild and alive(grandchild), "without setsid only the child is signalled")
run({"kill", "-KILL", tostring(grandchild)})
t.ok(eventually(function() return not alive(grandchild) end), "(the grandchild is cleaned up)")

-- the garbage collector closes the pipe, not the child
c = assert(kos.spawn({"sleep", "30"}, {stdout = "pipe"}))
local pid = c.pid
c = nil -- luacheck: ignore
collectgarbage()
collectgarbage()
t.ok(alive(pid), "a collected child keeps running")
run({"kill", "-KILL", tostring(pid)})

-- ---- exe ----
local exe = kos.exe()
t.like(exe, "^/", "exe: an absolute path")
out = run({exe, "lua", "-e", "io.write('from the binary')"})
t.is(out, "from the binary", "it is the running kedge")

-- ---- notify ----
if not os.getenv("NOTIFY_SOCKET") then t.is(kos.notify("READY=1"), false, "notify: false without NOTIFY_SOCKET") end
local notifier = "local ok, e = require('kedge.os').notify(arg[1]); io.write(tostring(ok), ' ', tostring(e))"
local function notify_in_child(sock, text)
  return run({exe, "lua", "-e", notifier, text}, {stdout = "pipe", env = {NOTIFY_SOCKET = sock}})
end
t.is(notify_in_child("", "X=1"), "false nil", "an empty NOTIFY_SOCKET is unset")
local tmp = os.tmpname()
os.remove(tmp)
assert(kos.mkdir(tmp))
local receiver = [[
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1].replace("@", "\0", 1))
s.settimeout(10)
print("bound", flush=True)
print(s.recv(4096).decode(), flush=True)
]]
for _, sock in ipairs({tmp .. "/notify.sock", "@kedge-osev-" .. me}) do
  local r = assert(kos.spawn({"python3", "-c", receiver, sock}, {stdout = "pipe"}))
  t.is(read_line(r), "bound", "a datagram socket at " .. sock)
  t.is(notify_in_child(sock, "READY=1\nSTATUS=up"), "true nil", "notify to it: true")
  t.is(read_all(r), "READY=1\nSTATUS=up\n", "the text arrived as one datagram")
  t.same(r:wait(true), {status = 0, signal = 0}, "(the receiver ended)")
end
out = notify_in_child(tmp .. "/nobody.sock", "READY=1")
t.like(out, "^nil sd_notify to .*nobody%.sock", "nobody listening: nil, err")
out = notify_in_child("relative/path", "READY=1")
t.like(out, "^nil .*neither a path", "a relative NOTIFY_SOCKET: nil, err")
os.execute("rm -rf " .. tmp)

-- ---- listen ----
local lis = assert(kos.listen("127.0.0.1", 0))
local port = lis:port()
t.ok(math.type(port) == "integer" and port > 0, "listen: port 0 picks a port (" .. port .. ")")
t.is(lis:accept(), nil, "accept: nil when nobody waits")
local taken, terr = kos.listen("127.0.0.1", port)
t.ok(taken == nil and terr:find(tostring(port), 1, true), "a taken port: nil, err")
nothing, err = kos.listen("example.com", 0)
t.ok(nothing == nil and err:find("numeric", 1, true), "a host name: nil, err")
t.raises(function() kos.listen("127.0.0.1", 70000) end, "port", "a bad port raises")
local lh = assert(kos.listen("localhost", 0), "localhost is 127.0.0.1")
lh:close()
t.raises(function() lh:fd() end, "closed", "a closed listener raises")

-- A client in bash: connects, writes what it is given (printf format),
-- then prints the answer, or sleeps to keep the connection open.
local function client(send, after)
  return assert(kos.spawn({"bash", "-c", 'exec 3<>/dev/tcp/127.0.0.1/$1; printf "$2" >&3; ' .. after,
    "client", tostring(port), send}, {stdout = "pipe"}))
end
local function accept()
  local fds = kos.poll({lis:fd()}, 5)
  t.same(fds, {lis:fd()}, "poll says the listener has a connection")
  return lis:accept()
end

local cl = client("GET /metrics HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nbody", "cat <&3")
local conn = accept()
t.ok(conn ~= nil, "accept: a connection")
local head = conn:read_request(8192, 5)
t.is(head, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", "read_request: the head, through its blank line only")
t.ok(conn:write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 5), "write")
conn:close()
t.is(read_all(cl), "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "the client got the answer")
cl:wait(true)
t.raises(function() conn:read_request() end, "closed", "a closed connection raises")

cl = client(string.rep("a", 100), "sleep 5")
conn = accept()
nothing, err = conn:read_request(50, 5)
t.ok(nothing == nil and err:find("50 bytes", 1, true), "past max bytes: nil, err")
conn:close()
cl:kill("KILL")
cl:wait(true)

cl = client("GET / HTTP/1.1\\r\\n", "sleep 5")
conn = accept()
t0 = kos.monotonic()
nothing, err = conn:read_request(8192, 0.3)
took = kos.monotonic() - t0
t.ok(nothing == nil and err:find("timed out", 1, true), "an unfinished head: nil, err at the timeout")
t.ok(took >= 0.29 and took < 3, string.format("after about the timeout (%.3f s)", took))
conn:close()
cl:kill("KILL")
cl:wait(true)

cl = client("GET / HTTP/1.1\\r\\n", "exit 0")
conn = accept()
nothing, err = conn:read_request(8192, 5)
t.ok(nothing == nil and err:find("closed", 1, true), "the peer closing early: nil, err")
t.raises(function() conn:read_request(limits.listen_request_bytes + 1) end, "KD_LIMIT_LISTEN_REQUEST_BYTES",
  "max over the limit raises")
t.raises(function() conn:read_request(100, limits.listen_wait_s + 1) end, "seconds", "so does a long timeout")
conn:close()
cl:wait(true)

cl = client("", "exec 3<&-; sleep 0.2")
conn = accept()
kos.sleep(0.5)
-- the first write may still be taken; the peer's reset fails a later one
local ok1, werr
for _ = 1, 20 do
  ok1, werr = conn:write(string.rep("x", 65536), 2)
  if not ok1 then break end
  kos.sleep(0.05)
end
t.ok(ok1 == nil and werr ~= nil, "writing to a client that has gone: nil, err (no SIGPIPE)")
conn:close()
cl:wait(true)
lis:close()

-- ---- none of it reaches a recipe ----
local fn = assert(sandbox.load("return require, package, kedge, os.spawn, os.exe, os.listen, os.signals, os.poll"))
local res = table.pack(sandbox.call(fn, {}))
local reached = {}
for i = 2, 9 do if res[i] ~= nil then reached[#reached + 1] = i end end
t.ok(res[1] == true and #reached == 0,
  "a recipe reaches neither require nor kedge.os's process and network functions")
t.done()

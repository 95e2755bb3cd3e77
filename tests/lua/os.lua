-- kedge.os, core/base/fs for Lua: atomic replace, bounded reads, folders,
-- locks with a timeout and the clocks. Expected failures are nil, err;
-- wrong arguments raise. The lock's holder is a second kedge process.
local t = dofile("tests/tap.lua")
local kos = require "kedge.os"
local limits = require "kedge.limits"

local KEDGE = os.getenv("KEDGE") or "build/kedge"
local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp))

-- write_atomic and read_file
t.ok(kos.write_atomic(tmp .. "/a", "one"), "write_atomic")
t.is(kos.read_file(tmp .. "/a"), "one", "read_file reads it back")
t.ok(kos.write_atomic(tmp .. "/a", "second", 420), "write_atomic replaces")
t.is(kos.read_file(tmp .. "/a"), "second", "the new content, whole")
t.same(kos.read_dir(tmp), {"a"}, "no temporary file is left behind")
local nothing, err = kos.read_file(tmp .. "/a", 3)
t.ok(nothing == nil and err:find(tmp .. "/a", 1, true) ~= nil, "over the limit: nil, err naming the file")
nothing, err = kos.read_file(tmp .. "/none")
t.ok(nothing == nil and err:find("none", 1, true) ~= nil, "a missing file: nil, err")
t.ok(kos.write_atomic(tmp .. "/sub/f", "x"), "the file's folder is made when missing")
nothing, err = kos.write_atomic(tmp .. "/no/such/f", "x")
t.ok(nothing == nil and err:find("no/such", 1, true) ~= nil, "a missing grandparent: nil, err")
t.raises(function() kos.write_atomic(tmp .. "/b", "x", 8 ^ 5) end, "file mode", "a bad mode raises")
t.raises(function() kos.read_file(tmp .. "/a", -1) end, "size", "a negative limit raises")

-- folders and stat
t.ok(kos.mkdir(tmp .. "/m/n/o"), "mkdir with its parents")
t.ok(kos.mkdir(tmp .. "/m/n/o"), "an existing folder is fine")
nothing, err = kos.mkdir(tmp .. "/a")
t.ok(nothing == nil and err ~= nil, "mkdir over a file: nil, err")
local st_a = kos.stat(tmp .. "/a")
t.same({st_a.type, st_a.size}, {"file", 6}, "stat of a file")
t.ok(math.type(st_a.mode) == "integer" and st_a.mode & 0x1ff ~= 0, "with its permission bits")
t.is(kos.stat(tmp .. "/m").type, "dir", "stat of a folder")
t.is(kos.stat(tmp .. "/none"), nil, "stat of nothing is nil")
t.same(kos.read_dir(tmp), {"a", "m", "sub"}, "read_dir is sorted")
local _, _, why = kos.read_dir(tmp .. "/a")
t.is(why, "notdir", "read_dir of a file says notdir")
_, _, why = kos.read_dir(tmp .. "/none")
t.is(why, "missing", "read_dir of nothing says missing")
t.ok(kos.sync_dir(tmp), "sync_dir")
t.is(kos.sync_dir(tmp .. "/none"), nil, "sync_dir of nothing is nil, err")

-- locks: a second kedge holds one until its stdin closes
local lockp = tmp .. "/pass.lock"
local holder = io.popen(KEDGE .. " lua -e '"
  .. "local l = assert(require(\"kedge.os\").lock(arg[1])); io.stdout:write(\"held\\n\"); io.stdout:flush(); io.read(\"a\")' "
  .. lockp .. " > " .. tmp .. "/held", "w")
local deadline = kos.monotonic() + 20
while (kos.read_file(tmp .. "/held") or "") ~= "held\n" and kos.monotonic() < deadline do kos.sleep(0.05) end
local t0 = kos.monotonic()
local l
l, err = kos.lock(lockp, 0.3)
local waited = kos.monotonic() - t0
t.ok(l == nil and err ~= nil and err:find("pass.lock", 1, true) ~= nil, "a held lock: nil, err naming the file")
t.ok(waited >= 0.25 and waited < 5, string.format("it waited about the timeout (%.2f s)", waited))
holder:close()
l, err = kos.lock(lockp, 5)
t.ok(l ~= nil, "the lock is free once its holder ended")
l:unlock()
l:unlock()
t.ok(true, "unlock twice is fine")
do
  local scoped <close> = assert(kos.lock(lockp))
  t.ok(scoped ~= nil, "a lock as a <close> variable")
end
t.ok(kos.lock(lockp), "released at the end of its scope")
t.raises(function() kos.lock(lockp, limits.fs_lock_wait_s + 1) end, "seconds",
  "a wait over the lock limit raises")

-- clocks
local m0, w = kos.monotonic(), kos.now()
kos.sleep(0.02)
t.ok(kos.monotonic() - m0 >= 0.02, "sleep sleeps, by the monotonic clock")
t.ok(math.abs(w - os.time()) < 5, "now is the wall clock in seconds")
t.raises(function() kos.sleep(limits.fs_sleep_s + 1) end, "seconds", "a sleep over the limit raises")
t.raises(function() kos.sleep(-1) end, "seconds", "a negative sleep raises")

os.execute("rm -rf " .. tmp)
t.done()

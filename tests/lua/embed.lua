-- The embedded library: preload only, real chunk names, no disk search.
local t = dofile("tests/tap.lua")

local kedge = require "kedge"
t.like(kedge.version, "^%d+%.%d+%.%d+", "kedge.version")
for _, lib in ipairs({"lua", "libgit2", "mbedtls", "libyaml", "zlib", "libssh2", "http-parser", "libsodium"}) do
  t.like(kedge.libraries[lib], "^%d+%.%d+", "kedge.libraries." .. lib)
end

t.is(package.path, "", "package.path is empty")
t.is(package.cpath, "", "package.cpath is empty")
t.is(#package.searchers, 1, "only the preload searcher is left")
t.is(package.loadlib, nil, "no loadlib")

-- a module file on disk next to the test must not be found
local f = assert(io.open("kedge_disk_probe.lua", "w"))
f:write("return 'from disk'")
f:close()
local okay, err = pcall(require, "kedge_disk_probe")
os.remove("kedge_disk_probe.lua")
t.ok(not okay, "require does not read modules from the disk")
t.like(err, "no field package.preload%['kedge_disk_probe'%]", "and says only preload was searched")

local log = require "kedge.log"
local info = debug.getinfo(log.info, "S")
t.is(info.source, "@lua/kedge/log.lua", "embedded chunks carry their real path")

okay, err = pcall(log.info, 42)
t.like(err, "log message must be a string", "kedge.log checks its arguments")
t.like(select(2, pcall(function() log.info(42) end)), "embed%.lua:%d+",
  "argument errors point at the caller")

-- the command line's durations
t.same({kedge.duration("90"), kedge.duration("90s"), kedge.duration("2m"),
  kedge.duration("1h30m"), kedge.duration("0.5")}, {90, 90, 120, 5400, 0.5},
  "kedge.duration reads seconds and h/m/s units")
t.same({kedge.duration("soon"), kedge.duration("5d"), kedge.duration("0s")}, {},
  "kedge.duration: not a duration, an unknown unit, a zero with a unit → nil")
t.is(kedge.duration("0"), 0, "a plain 0 stays 0 (--wait 0: do not wait)")

t.done()

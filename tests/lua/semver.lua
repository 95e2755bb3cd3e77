-- kedge.semver from Lua: parse, compare, satisfies, max_satisfying,
-- valid_range; nil, err for bad input and raising for wrong types.
local t = dofile("tests/tap.lua")
local semver = require "kedge.semver"

-- parse
local v = assert(semver.parse("v1.2.3-rc.1+build.5"))
t.same(v, {major = 1, minor = 2, patch = 3, prerelease = "rc.1",
           build = "build.5", original = "v1.2.3-rc.1+build.5"},
       "parse gives every field, original kept as written")
t.is(math.type(v.major), "integer", "numbers are Lua integers")
t.same(assert(semver.parse("1.2")), {major = 1, minor = 2, patch = 0,
       prerelease = "", build = "", original = "1.2"},
       "lenient by default: 1.2 is 1.2.0, absent parts are empty strings")
local n, err = semver.parse("1.2", {strict = true})
t.is(n, nil, "strict parse refuses 1.2")
t.like(err, 'invalid version "1%.2": .*patch version is missing', "and says why")
n, err = semver.parse("01.2.3", {strict = true})
t.like(err, "major version has a leading zero", "strict: leading zero")
t.ok(semver.parse("01.2.3"), "lenient: leading zero accepted (Masterminds)")
n, err = semver.parse("1.2.3-01")
t.like(err, "leading zero", "numeric pre-release with a leading zero is refused")
n, err = semver.parse("1.2.3-a..b")
t.like(err, "empty pre%-release identifier", "empty identifier")
n, err = semver.parse("18446744073709551616.0.0")
t.like(err, "larger than 18446744073709551615", "overflow")
t.is(math.type(semver.parse("18446744073709551615.0.0").major), "float",
     "a number past math.maxinteger comes back as a float")
n, err = semver.parse("")
t.like(err, "empty version", "empty string")
t.raises(function() semver.parse(nil) end, "bad argument #1", "parse(nil) raises")
t.raises(function() semver.parse("1.2.3", {strict = "yes"}) end,
         "option 'strict' must be a boolean", "bad option type raises")

-- compare: SemVer 2.0.0 section 11 precedence
local order = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
               "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0",
               "2.1.0", "2.1.1"}
local bad = 0
for i = 1, #order do
  for j = 1, #order do
    local want = i < j and -1 or (i > j and 1 or 0)
    if semver.compare(order[i], order[j]) ~= want then bad = bad + 1 end
  end
end
t.is(bad, 0, "compare orders the spec's example list")
t.is(semver.compare("1.0.0+a", "1.0.0+b"), 0, "build metadata is ignored")
t.is(semver.compare("v1.2", "1.2.0"), 0, "compare parses leniently")
t.is(semver.compare(semver.parse("1.10.0"), "1.9.0"), 1, "tables from parse work")
t.is(semver.compare({major = 2, minor = 0, patch = 0, prerelease = "rc.1"}, "2.0.0"), -1,
     "tables without original are rebuilt from their fields")
n, err = semver.compare("1.2.3", "nope")
t.is(n, nil, "compare with a bad version returns nil")
t.like(err, 'invalid version "nope"', "and names it")
t.raises(function() semver.compare("1.2.3", 5) end, "bad argument #2",
         "compare with a number raises")
t.raises(function() semver.compare("x", true) end, "bad argument #2",
         "argument types are checked before versions are parsed")

-- satisfies
local cases = {
  {"^1.2", "1.9.0", true}, {"^1.2", "2.0.0", false}, {"^1.2", "1.2.0-rc.1", false},
  {"~1.2.3", "1.2.9", true}, {"~1.2.3", "1.3.0", false},
  {">=1.0 <2.0", "1.5.0", true}, {">=1.0, <2.0", "2.0.0", false},
  {"^0.2.3", "0.2.9", true}, {"^0.2.3", "0.3.0", false},
  {"^0.0.3", "0.0.3", true}, {"^0.0.3", "0.0.4", false},
  {"1.2.x", "1.2.7", true}, {"1.*", "1.9.9", true}, {"*", "0.0.1", true},
  {"1.2 - 1.4.5", "1.4.5", true}, {"1.2 - 1.4.5", "1.4.6", false},
  {"<1.0 || >=3", "3.1.0", true}, {"<1.0 || >=3", "2.0.0", false},
  {"!=1.2.3", "1.2.3", false}, {"=<1.2.3", "1.2.3", true},
  {"^1.2.0-0", "1.5.0-beta.1", true}, {">=1.2.0-0 <2.0.0", "1.5.0-beta.1", false},
  {">=1.21.0-0", "v1.27.3+k3s1", true},
}
for _, c in ipairs(cases) do
  t.is(semver.satisfies(c[2], c[1]), c[3],
       string.format("%s %s %s", c[2], c[3] and "satisfies" or "does not satisfy", c[1]))
end
n, err = semver.satisfies("1.2.3", ">= bar")
t.is(n, nil, "a bad range returns nil")
t.like(err, 'invalid version range ">= bar"', "and names the range")
n, err = semver.satisfies("bar", "^1")
t.like(err, 'invalid version "bar"', "a bad version returns nil, err")
t.raises(function() semver.satisfies("1.2.3", nil) end, "bad argument #2",
         "a missing range raises")
t.raises(function() semver.satisfies(1, "^1") end, "bad argument #1",
         "a number as version raises")

-- max_satisfying over a tag list
local tags = {"v1.0.0", "v1.2.0", "v1.2.7", "v1.3.0-rc.1", "v1.10.1", "v2.0.0",
              "latest", "v1.2.7+rebuild", "release-3", "v0.9.0"}
t.is(semver.max_satisfying(tags, "^1.2"), "v1.10.1", "highest match, numerically")
t.is(semver.max_satisfying(tags, "~1.2"), "v1.2.7", "the first of equal versions wins")
t.is(semver.max_satisfying(tags, ">=1.0 <2.0"), "v1.10.1", "space-separated AND")
t.is(semver.max_satisfying(tags, "~1.3.0-0"), "v1.3.0-rc.1",
     "pre-releases only when the range names one")
t.is(semver.max_satisfying(tags, "~1.3"), nil, "no match gives nil")
t.is(semver.max_satisfying(tags, "*"), "v2.0.0", "* picks the newest release")
t.is(semver.max_satisfying({}, "*"), nil, "an empty list gives nil")
n, err = semver.max_satisfying(tags, "^^1")
t.is(n, nil, "a bad range gives nil")
t.like(err, "invalid version range", "and a message")
t.raises(function() semver.max_satisfying({"1.0.0", 2}, "*") end,
         "item 2 is a number", "a non-string item raises")
t.raises(function() semver.max_satisfying("1.0.0", "*") end, "bad argument #1",
         "a string instead of a list raises")

-- valid_range
t.is(semver.valid_range(">= 1.2.3, < 2 || ~3.1 || 4.x"), true, "valid_range accepts")
n, err = semver.valid_range("1.2 ||")
t.is(n, nil, "valid_range refuses")
t.like(err, "empty alternative", "with a reason")
n, err = semver.valid_range(string.rep(">1 ", 65))
t.like(err, "KD_LIMIT_SEMVER_TERMS", "too many terms")
n, err = semver.valid_range(string.rep(" ", 2000) .. "1")
t.like(err, "KD_LIMIT_SEMVER_BYTES", "too long")

t.done()

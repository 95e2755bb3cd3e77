# The command line: help, version, exit codes, logging, `kedge lua`.
. tests/lib.sh

run "$KEDGE" --help
is "$rc" 0 "--help exits 0"
like "$out" "^usage: kedge" "--help prints usage"
like "$out" "version" "--help lists the commands"

run "$KEDGE"
is "$rc" 2 "no command exits 2"

for cmd in version lua help; do
	run "$KEDGE" help "$cmd"
	is "$rc" 0 "help $cmd exits 0"
	like "$out" "^usage: kedge $cmd" "help $cmd prints its usage"
	run "$KEDGE" "$cmd" --help
	like "$out" "^usage: kedge $cmd" "$cmd --help prints its usage"
done

run "$KEDGE" frobnicate
is "$rc" 2 "an unknown command exits 2"
is "$err" "kedge: unknown command 'frobnicate' (see 'kedge help')" "with a one-line hint"
is "$out" "" "and nothing on stdout"

run "$KEDGE" --colour
is "$rc" 2 "an unknown global option exits 2"
run "$KEDGE" version --bogus
is "$rc" 2 "an unknown command option exits 2"
is "$err" "kedge: unknown option '--bogus' (see 'kedge help version')" "naming the command's help"
run "$KEDGE" --log-level loud version
is "$rc" 2 "a bad log level exits 2"

run "$KEDGE" version
is "$rc" 0 "version exits 0"
like "$out" "^kedge [0-9]+\.[0-9]+\.[0-9]+" "version names kedge's version"
for lib in lua libgit2 mbedtls libyaml zlib libssh2 http-parser libsodium; do
	like "$out" "^$lib +[0-9]+\.[0-9]+" "version lists $lib"
done
like "$out" "lua +5\.4\." "Lua is 5.4"
like "$out" "libgit2 +1\.5\." "libgit2 is 1.5"
like "$out" "mbedtls +2\.28\." "mbedTLS is 2.28"
run "$KEDGE" version --json
like "$out" '^\{"kedge":"[0-9.a-z-]+","commit":"[^"]+","arch":"(x86_64|aarch64)","lua":"5\.4\.[0-9]+"' "version --json is one JSON object"
is "$(printf '%s' "$out" | sed -n 's/.*"arch":"\([^"]*\)".*/\1/p')" "$(uname -m)" "version --json names the machine it was built for"
like "$("$KEDGE" version | head -n 1)" "^kedge [^ ]+ \(commit [^,]+, $(uname -m)\)$" "version's first line names it too"

# The README's round trip: YAML -> value -> JSON -> value -> YAML.
run "$KEDGE" lua -e '
local yaml, json = require "kedge.yaml", require "kedge.json"
local v = assert(yaml.decode(io.read("a")))
local j = json.encode(v)
io.write(j, "\n", yaml.encode(assert(json.decode(j))))' <<'YAML'
site: berlin-01
labels: {env: production}
capacity: {cpu: "8", pods: 110}
YAML
is "$rc" 0 "YAML -> JSON -> YAML round trip runs"
is "$out" '{"capacity":{"cpu":"8","pods":110},"labels":{"env":"production"},"site":"berlin-01"}
capacity:
  cpu: "8"
  pods: 110
labels:
  env: production
site: berlin-01' "and gives the expected JSON and YAML"

cat >"$TMP/args.lua" <<'LUA'
print(arg[0], #arg, ...)
LUA
run "$KEDGE" lua "$TMP/args.lua" one two
is "$out" "$TMP/args.lua	2	one	two" "scripts get arg and ..."
run "$KEDGE" lua - x <"$TMP/args.lua"
is "$out" "-	1	x" "'-' reads the script from stdin"

cat >"$TMP/fail.lua" <<'LUA'
local function inner() error("boom") end
inner()
LUA
run "$KEDGE" lua "$TMP/fail.lua"
is "$rc" 1 "a failing script exits 1"
like "$err" "fail\.lua:1: boom" "with the error and its line"
like "$err" "stack traceback" "and a traceback"
run "$KEDGE" lua "$TMP/missing.lua"
is "$rc" 1 "a missing script exits 1"
like "$err" "cannot open" "saying it cannot be opened"
run "$KEDGE" lua
is "$rc" 2 "lua without a script exits 2"

run "$KEDGE" --log-format json lua -e 'require("kedge.log").with({bundle = "mon"}).warn("hello \"x\"", {n = 1})'
like "$err" '^\{"time":"[0-9T:.-]+Z","level":"warn","msg":"hello \\"x\\"","bundle":"mon","n":1\}$' "--log-format json writes one JSON object per line"
run "$KEDGE" lua -e 'require("kedge.log").info("hello", {site = "berlin 01"})'
like "$err" '^[0-9T:.-]+Z INFO  hello  site="berlin 01"$' "text logs are readable lines"
run "$KEDGE" --log-level warn lua -e 'require("kedge.log").info("hidden")'
is "$err" "" "--log-level drops lines below it"

done_testing

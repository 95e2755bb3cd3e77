# The aarch64 binary (./build.sh arm64) under user-mode emulation: it is a
# static aarch64 executable, runs alone in an empty root, and gives what the
# native binary gives: version, the YAML/JSON round trip, every chart render
# of the corpus, `kedge check` on the example repo, and the Lua test files
# (tests/lua/*.lua need no server). qemu-aarch64-static is called directly:
# no binfmt registration is needed.
. tests/lib.sh

ARM=${KEDGE_ARM64:-$PWD/build/arm64/kedge}
QEMU=$(command -v qemu-aarch64-static || true)
if [ ! -x "$ARM" ]; then
	echo "1..0 # SKIP no $ARM (./build.sh arm64 builds it; ./build.sh test does too)"
	exit 0
fi
if [ -z "$QEMU" ]; then
	echo "1..0 # SKIP qemu-aarch64-static is not installed (./build.sh test installs qemu-user-static)"
	exit 0
fi
# What the tests call "kedge": the emulated binary, as one executable path,
# so that Lua tests and run-charts can spawn it like the native one.
cat >"$TMP/kedge" <<SH
#!/bin/sh
exec "$QEMU" "$ARM" "\$@"
SH
chmod +x "$TMP/kedge"
A=$TMP/kedge

run file -L "$ARM"
like "$out" "ELF 64-bit LSB executable, ARM aarch64" "file says aarch64"
like "$out" "statically linked" "and statically linked"
like "$out" "stripped" "and stripped"
bytes=$(stat -c %s "$ARM")
ok "within the 4 MiB budget ($bytes bytes)" test "$bytes" -le $((4 * 1024 * 1024))

run "$A" version --json
is "$rc" 0 "version --json runs under emulation"
like "$out" '^\{"kedge":"[0-9.a-z-]+","commit":"[^"]+","arch":"aarch64","lua":"5\.4\.[0-9]+"' "and names aarch64"
is "$("$A" version | tail -n +2)" "$("$KEDGE" version | tail -n +2)" "the same library versions as the native binary"

# The empty root holds the binary and the (static) emulator: under binfmt
# the kernel would start that same emulator; nothing else is reachable.
root="$TMP/root"
mkdir "$root"
cp "$ARM" "$root/kedge"
cp "$QEMU" "$root/qemu"
is "$(ls -A "$root" | tr '\n' ' ')" "kedge qemu " "the new root holds only the binary and the emulator"
if [ "$(id -u)" = 0 ]; then
	enter() { chroot "$root" /qemu "$@"; }
else
	enter() { unshare -r --root="$root" /qemu "$@"; }
fi
run enter /kedge version
is "$rc" 0 "kedge version runs alone in an empty root"
like "$out" "libgit2" "and lists its libraries"
run enter /kedge lua -e '
local yaml, json = require "kedge.yaml", require "kedge.json"
local v = assert(yaml.decode("a: [1, 2.5, yes, ~]\nb: {c: d}\n"))
local again = assert(yaml.decode(yaml.encode(assert(json.decode(json.encode(v))))))
io.write(json.encode(again))'
is "$rc" 0 "a YAML round trip runs alone in an empty root"
is "$out" '{"a":[1,2.5,true,null],"b":{"c":"d"}}' "and gives the right value"

# The README's round trip, byte for byte as the native binary gives it.
roundtrip='
local yaml, json = require "kedge.yaml", require "kedge.json"
local v = assert(yaml.decode(io.read("a")))
local j = json.encode(v)
io.write(j, "\n", yaml.encode(assert(json.decode(j))))'
cat >"$TMP/in.yaml" <<'YAML'
site: berlin-01
labels: {env: production}
capacity: {cpu: "8", pods: 110, ratio: 0.75, big: 9007199254740993, neg: -12}
text: "tab\there, ünïcödé, \u2603"
list: [~, true, "no", 1e3]
YAML
run "$A" lua -e "$roundtrip" <"$TMP/in.yaml"
is "$rc" 0 "YAML -> JSON -> YAML runs"
is "$out" "$("$KEDGE" lua -e "$roundtrip" <"$TMP/in.yaml")" "and gives what the native binary gives"

# Every render of the chart corpus against its golden, held to the count
# tests/e2e/t0040-charts.sh holds the native binary to. The cases are split
# in two by chart name so the emulated renders run on both cores.
manifest=${KEDGE_CHARTS:-../shared/charts/manifest.json}
recorded=$(sed -n 's/.*passes \([0-9][0-9]*\) of the [0-9][0-9]* cases.*/\1/p' tests/conformance/known-differences-charts.md | head -n 1)
ok "the chart corpus is at $manifest" test -f "$manifest"
KEDGE=$A CHARTS_ONLY='^[a-k]' tests/conformance/run-charts "$manifest" >"$TMP/arm.1" 2>&1 &
p1=$!
KEDGE=$A CHARTS_ONLY='^[^a-k]' tests/conformance/run-charts "$manifest" >"$TMP/arm.2" 2>&1
wait "$p1"
passed=$(grep -c '^ok ' "$TMP/arm.1" "$TMP/arm.2" | awk -F: '{ n += $2 } END { print n }')
total=$(grep -c '^\(not \)\{0,1\}ok ' "$TMP/arm.1" "$TMP/arm.2" | awk -F: '{ n += $2 } END { print n }')
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$TMP/arm.1" "$TMP/arm.2" | awk '{ n += $1 } END { print n }')
ok "run-charts ran every case ($total of its plan $plan)" test "$total" = "$plan" -a "$total" -ge 139
ok "at least $recorded cases pass, as natively (passed: $passed)" test "$passed" -ge "${recorded:-1}"
[ "$passed" -ge "${recorded:-1}" ] || grep -h -A3 '^not ok' "$TMP/arm.1" "$TMP/arm.2" | sed 's/^/# /'
grep -q '^ok [0-9]* - opentelemetry-collector$' "$TMP/arm.2"
tap_report $? "opentelemetry-collector's default values fail as in Helm (required image.repository)"

# kedge check: the same report, problems and exit code.
EX=tests/example-repo
export HOME=$TMP/home KEDGE_STATE_DIR=$TMP/no-state
run "$KEDGE" check --repo "$EX" --all-sites
nrc=$rc nout=$out nerr=$err
run "$A" check --repo "$EX" --all-sites
is "$rc" "$nrc" "check on the example repo exits as natively ($nrc)"
is "$out" "$nout" "with the same report"
is "$err" "$nerr" "and the same problems"

# The Lua test files, each run by the emulated binary. Two things only the
# emulation changes: osev.lua re-runs kedge's own file (kedge.os.exe()),
# which without binfmt the kernel cannot start, so it is left out; and
# emulated Lua is ten times slower, so health.lua's endless loop can meet
# its 1 s deadline before the 10M-instruction limit (its next check, the
# deadline itself, still runs).
may_fail() {
	case $1 in
	tests/lua/health.lua) echo 'an endless loop stops at the instruction limit' ;;
	esac
}
# Two at a time, one per core; reported in order.
mkdir "$TMP/lua"
run_lua() { # FILE...
	for f in "$@"; do
		KEDGE=$A "$A" lua "$f" >"$TMP/lua/${f##*/}.out" 2>&1
		echo $? >"$TMP/lua/${f##*/}.rc"
	done
}
set -- $(ls tests/lua/*.lua | grep -vx tests/lua/osev.lua)
run_lua $(printf '%s\n' "$@" | sed -n 'p;n') &
p1=$!
run_lua $(printf '%s\n' "$@" | sed -n 'n;p')
wait "$p1"
for f in "$@"; do
	cp "$TMP/lua/${f##*/}.out" "$TMP/lua.out"
	frc=$(cat "$TMP/lua/${f##*/}.rc")
	allowed=$(may_fail "$f")
	grep '^not ok' "$TMP/lua.out" | sed 's/^not ok [0-9]* - //' >"$TMP/lua.failed"
	bad=$(grep -vxF "${allowed:-//none//}" "$TMP/lua.failed")
	if [ -n "$allowed" ] && [ -s "$TMP/lua.failed" ] && [ -z "$bad" ] && grep -q '^1\.\.[0-9]' "$TMP/lua.out"; then
		frc=0 # only the allowed check failed, and the file ran to its plan
	fi
	[ -z "$bad" ] && [ "$frc" = 0 ]
	tap_report $? "$f passes under emulation" "$(grep -A4 '^not ok' "$TMP/lua.out" | head -n 30; tail -n 5 "$TMP/lua.out")"
done

done_testing

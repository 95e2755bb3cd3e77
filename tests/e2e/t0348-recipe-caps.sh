# Issue 21, finding 2: a recipe's caps hold in the host code it calls.
# `kedge apply` with a site recipe (a local config repo, no cluster: the
# recipe acts before anything is rendered) whose values carry hostile
# metamethods: a __tostring that loops or allocates, a __pairs that loops,
# a __gc. Each pass ends at once with the cap named in its error and report
# (or, for __pairs, never runs it), and pass.lock is free afterwards. Then
# the watchdog: a recipe (and a health script) stuck in a pattern match
# that backtracks, one C call the instruction hook cannot stop, is ended
# KD_LIMIT_SANDBOX_GRACE_SECONDS past its deadline, leaving state.json and
# the outbox as they were.
. tests/lib.sh
. tests/gitlib.sh

R=$TMP/repo
S=$TMP/state
ok "a config repo" new_repo "$R"
git -C "$R" rm -q kedge.yaml
printf 'name: berlin-01\nrecipe: recipes/site.lua\n' >"$R/sites/berlin-01.yaml"

ms() { echo $(($(date +%s%N) / 1000000)); }
# recipe NAME CODE: commit it as the site's recipe and apply, timing it
recipe() {
	mkdir -p "$R/recipes"
	printf '%s\n' "$2" >"$R/recipes/site.lua"
	git -C "$R" add -A && git -C "$R" commit -q -m "recipe: $1" && git -C "$R" push -q -f origin HEAD:main
	local t0
	t0=$(ms)
	run "$KEDGE" apply --repo "$R.git" --ref main --state-dir "$S" --site berlin-01 --lock-timeout 1
	took=$(($(ms) - t0))
}
lock_free() {
	"$KEDGE" lua -e 'assert(require("kedge.os").lock(arg[1] .. "/pass.lock", 0))' "$S"
}
report_of_last() {
	local id
	id=$(printf '%s\n' "$out" | sed -n 's/.*report \([^ ]*\)$/\1/p')
	"$KEDGE" report show --state-dir "$S" --site berlin-01 "$id"
}

recipe "benign" 'return function(pass) pass.log("hello", {a = 1}) end'
is "$rc" 0 "a benign recipe's pass succeeds"

recipe "__tostring loops" 'return function(pass)
  pass.log(setmetatable({}, {__tostring = function() while true do end end}))
end'
is "$rc" 1 "pass.log(a value whose __tostring loops): the pass fails"
like "$err" "recipe stopped: instruction limit of 50000000 exceeded" "stopped by the instruction cap"
ok "within the recipe's deadline (${took} ms)" test "$took" -lt 60000
like "$(report_of_last)" "instruction limit of 50000000 exceeded" "the report names the cap"
ok "pass.lock is free afterwards" lock_free

recipe "__tostring allocates" 'return function(pass)
  pass.fail(setmetatable({}, {__tostring = function() return ("x"):rep(1 << 30) end}))
end'
is "$rc" 1 "pass.fail(a value whose __tostring allocates 1 GiB): the pass fails"
like "$err" "recipe stopped: memory limit of 33554432 bytes exceeded" "stopped by the memory cap"
ok "within the recipe's deadline (${took} ms)" test "$took" -lt 60000
ok "pass.lock is free afterwards" lock_free

recipe "__pairs loops" 'return function(pass)
  local evil = setmetatable({raw = "kept"}, {__pairs = function() while true do end end,
    __index = function() while true do end end})
  pass.log("fields", evil)
  pass.step("evil", function() return nil, evil end)
end'
is "$rc" 1 "tables whose __pairs and __index loop, handed to pass.log and pass.step: the pass ends"
like "$err" "fields  raw=kept" "pass.log got the raw fields (no __pairs ran)"
like "$err" "evil failed: table: " "the step's message is the plain copy"
ok "at once (${took} ms)" test "$took" -lt 20000
ok "pass.lock is free afterwards" lock_free

recipe "__gc" 'return function(pass)
  setmetatable({}, {__gc = function() while true do end end})
end'
is "$rc" 1 "a recipe setting __gc: the pass fails"
like "$err" "__gc is not available in the sandbox" "saying __gc is not available"
ok "pass.lock is free afterwards" lock_free

# --- the watchdog: the deadline holds where the hook cannot ---------------
printf '%s\n' 'return function(pass)
  pass.log("matching")
  return string.find(string.rep("a", 40), string.rep("a*", 40) .. "b")
end' >"$R/recipes/site.lua"
git -C "$R" add -A && git -C "$R" commit -q -m "recipe: backtracks" && git -C "$R" push -q -f origin HEAD:main
before_state=$(sha256sum <"$S/state.json")
before_outbox=$(ls "$S/outbox" | sort)
t0=$(ms)
# the same pass as `kedge apply`, with the recipe's deadline cut to 1 s
run "$KEDGE" lua -e '
local pass = require "kedge.pass"
pass.RECIPE_LIMITS.timeout = 1
local p = pass.new{repo = arg[1], ref = "main", state_dir = arg[2], site = "berlin-01",
  mode = "apply", lock_timeout = 1}
os.exit(pass.run(p))' "$R.git" "$S"
took=$(($(ms) - t0))
is "$rc" 1 "a recipe stuck in a backtracking pattern match: the process ends with status 1"
like "$err" "kedge: recipe stopped: deadline exceeded: recipes/site.lua ran 2 s past its 1 s" \
	"saying the recipe exceeded its deadline"
like "$err" "matching" "after the recipe had started"
ok "2 s past the deadline, not hours (${took} ms)" test "$took" -lt 10000
is "$(sha256sum <"$S/state.json")" "$before_state" "state.json is unchanged"
is "$(ls "$S/outbox" | sort)" "$before_outbox" "the outbox is unchanged"
is "$(find "$S" -name '*.tmp*' | wc -l)" 0 "no half-written file is left"
ok "pass.lock is free afterwards" lock_free

# a health script is held to its 1 s the same way
H=$TMP/health
mkdir -p "$H/ConfigMap"
printf '%s\n' 'string.find(string.rep("a", 40), string.rep("a*", 40) .. "b")' \
	'return {status = "Healthy"}' >"$H/ConfigMap/health.lua"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' >"$TMP/cm.yaml"
t0=$(ms)
run "$KEDGE" health --scripts "$H" "$TMP/cm.yaml"
took=$(($(ms) - t0))
is "$rc" 1 "kedge health with a script stuck in a pattern match: status 1"
like "$err" "deadline exceeded: .*ConfigMap/health.lua ran 2 s past its 1 s" "naming the script"
ok "3 s after it started, not hours (${took} ms)" test "$took" -lt 10000
done_testing

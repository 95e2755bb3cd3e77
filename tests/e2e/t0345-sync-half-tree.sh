# A tree left half pruned (files gone, its completion record rev/<id>.json
# gone) is never served: sync and --ref check it out again, opening it
# (kedge.git.open, as a rollback does) is refused naming the fix, and a
# prune renames a tree aside before deleting it (issue 21, finding 1).
. tests/lib.sh
. tests/gitlib.sh

R=$TMP/repo
S=$TMP/state
ok "a config repo" new_repo "$R"
for i in $(seq 1 40); do echo "n: $i" > "$R/f$i.yaml"; done
git -C "$R" add -A && git -C "$R" commit -qm files && git -C "$R" push -q origin HEAD:main
c1=$(head_of "$R")
n1=$(git -C "$R" ls-tree -r --name-only "$c1" | wc -l)
ok "a second commit" commit_file "$R" g.yaml "g: 1"
c2=$(head_of "$R")
run "$KEDGE" sync --repo "$R.git" --ref "$c1" --state "$S"
is "$rc" 0 "synced the first commit"
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S"
is "$rc" 0 "then main"

# a prune killed between its two deletions: files gone, record gone
rm -f "$S/rev/$c1"/f1*.yaml "$S/rev/$c1.json"
n_half=$(find "$S/rev/$c1" -type f | wc -l)
cat > "$TMP/open.lua" <<LUA
local git = require "kedge.git"
local rev, err = git.open("$S", "$c1")
print(rev and "opened" or ("refused: " .. tostring(err)))
LUA
run "$KEDGE" lua "$TMP/open.lua"
like "$out" "refused: revision $c1 in .* is incomplete: its completion record .*$c1.json is missing" \
	"opening the half tree (a rollback) is refused"
like "$out" "run kedge sync --ref $c1 to check it out again" "naming the fix"

run "$KEDGE" sync --repo "$R.git" --ref "$c1" --state "$S"
is "$rc" 0 "sync --ref to the half tree's commit"
like "$err" "has no completion record .* checking it out again" "warns and checks it out again"
is "$(find "$S/rev/$c1" -type f | wc -l)" "$n1" "the tree is whole again ($n_half files before)"
ok "with its record" test -f "$S/rev/$c1.json"
run "$KEDGE" lua "$TMP/open.lua"
is "$out" "opened" "and opens"

# current itself half pruned (an older kedge pruned it in place)
rm -f "$S/rev/$c1"/f2*.yaml "$S/rev/$c1.json"
cat > "$TMP/cur.lua" <<LUA
local rev, err = require("kedge.git").open("$S")
print(rev and "opened" or ("refused: " .. tostring(err)))
LUA
run "$KEDGE" lua "$TMP/cur.lua"
like "$out" "refused: .* is incomplete" "a half tree as current is not served either"
run "$KEDGE" sync --repo "$R.git" --ref "$c1" --state "$S"
is "$rc" 0 "sync of the current commit"
is "$(find "$S/rev/$c1" -type f | wc -l)" "$n1" "checks it out again too"

# a tree without its record that nothing names is pruned, not kept
rm -f "$S/rev/$c2.json"
for i in 3 4 5; do commit_file "$R" "h$i" "$i"; "$KEDGE" sync --repo "$R.git" --ref main --state "$S" >/dev/null 2>&1; done
ok "a half tree nothing serves is removed by the next prune" test ! -e "$S/rev/$c2"
ok "no folder is left aside" sh -c "! ls -a '$S/rev' | grep -q '^\.tmp-'"
for d in "$S"/rev/*/; do
	id=$(basename "$d")
	ok "kept tree $id has its record" test -f "$S/rev/$id.json"
done
done_testing

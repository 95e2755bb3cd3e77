# kedge sync and kedge.git over local paths and file:// URLs: refs (branch,
# tag, commit, semver ranges), the state layout, atomic trees and the kept
# revisions, force pushes, the Lua API, errors and exit codes, and two
# syncs at once on one state directory.
. tests/lib.sh
. tests/gitlib.sh

R=$TMP/repo
S=$TMP/state
ok "a config repo with one commit" new_repo "$R"
c1=$(head_of "$R")

run "$KEDGE" sync --help
like "$out" "^usage: kedge sync --repo URL --ref REF" "sync --help prints its usage"
like "$out" "Exit codes: 0 synced" "and documents its exit codes"
run "$KEDGE" sync --repo "$R.git"
is "$rc" 2 "a missing --ref is a usage error"
run "$KEDGE" sync --repo "$R.git" --ref main --token abc
is "$rc" 2 "a secret on the command line is refused"
like "$err" "never taken from the command line" "saying why"

# --- local path ------------------------------------------------------------
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S"
is "$rc" 0 "sync from a local path exits 0"
is "$out" "$c1 $S/rev/$c1" "prints the commit and its tree"
is "$(readlink "$S/current")" "rev/$c1" "current points at the tree"
is "$(cat "$S/rev/$c1/sites/berlin-01.yaml")" "name: berlin-01" "the tree holds the repo's files"
ok "the mirror is a bare repo" test -f "$S/mirror.git/HEAD"
like "$(cat "$S/status.json")" "\"current\": \"$c1\"" "status.json names what is served"
like "$(cat "$S/rev/$c1.json")" "\"message\": \"first\\\\n\"" "the commit's metadata is kept beside the tree"

run "$KEDGE" sync --repo "$R.git" --ref main --state "$S"
is "$rc" 0 "a second sync with nothing new exits 0"
like "$err" "unchanged, 0 objects fetched" "and fetches nothing"

ok "a second commit" commit_file "$R" bundles/web/bundle.yaml "chart: charts/web"
c2=$(head_of "$R")
run "$KEDGE" sync --repo "file://$R.git" --ref main --state "$S"
is "$rc" 0 "sync through a file:// URL"
is "$out" "$c2 $S/rev/$c2" "moves to the new commit"
is "$(readlink "$S/current")" "rev/$c2" "current follows"
is "$(rev_list "$S")" "$(printf '%s\n' "$c1" "$c2" | sort | tr '\n' ' ')" "the previous tree is kept"
is "$(stat -c %i "$S/rev/$c2/sites/berlin-01.yaml")" "$(stat -c %i "$S/rev/$c1/sites/berlin-01.yaml")" \
	"an unchanged file is a hard link to the previous tree's"
is "$(cat "$S/rev/$c2/bundles/web/bundle.yaml")" "chart: charts/web" "a new file is written"

for i in 3 4 5; do commit_file "$R" "f$i" "$i" && "$KEDGE" sync --repo "$R.git" --ref main --state "$S" >/dev/null 2>&1; touch -d "-$((10 - i)) seconds" "$S/rev/$(head_of "$R")" 2>/dev/null; done
c5=$(head_of "$R")
is "$(ls -d "$S"/rev/*/ | wc -l)" 3 "only the last three trees are kept"
ok "the current one among them" test -d "$S/rev/$c5"
ok "no temporary folders are left" sh -c "! ls -a '$S/rev' | grep -q '^\.tmp-'"

# --- refs ------------------------------------------------------------------
git -C "$R" tag -a v1.0.0 -m "release 1.0.0" "$c1"
git -C "$R" tag v1.2.0 "$c2"
git -C "$R" tag -a v1.3.0-rc.1 -m rc "$c5"
git -C "$R" tag -a v2.0.0 -m "two" "$c5"
git -C "$R" push -q origin --tags
run "$KEDGE" sync --repo "$R.git" --ref v1.0.0 --state "$S"
is "$out" "$c1 $S/rev/$c1" "an annotated tag resolves to its commit"
run "$KEDGE" sync --repo "$R.git" --ref "semver:^1.0" --state "$S"
is "$out" "$c2 $S/rev/$c2" "semver:^1.0 picks the highest 1.x tag, not the pre-release"
run "$KEDGE" sync --repo "$R.git" --ref "semver:>=1.3.0-0 <2.0.0-0" --state "$S"
is "$out" "$c5 $S/rev/$c5" "a range that names a pre-release accepts one"
run "$KEDGE" sync --repo "$R.git" --ref "semver:^3" --state "$S"
is "$rc" 1 "no tag in the range fails"
like "$err" "no tag of .* matches semver range \"\\^3\"" "saying so"
is "$(readlink "$S/current")" "rev/$c5" "and leaves current alone"
run "$KEDGE" sync --repo "$R.git" --ref "$c2" --state "$S"
is "$out" "$c2 $S/rev/$c2" "a full commit id"
run "$KEDGE" sync --repo "$R.git" --ref refs/tags/v2.0.0 --state "$S"
is "$out" "$c5 $S/rev/$c5" "a full ref name"
run "$KEDGE" sync --repo "$R.git" --ref nosuch --state "$S"
is "$rc" 1 "an unknown ref fails"
like "$err" "ref \"nosuch\" not found in" "ref not found"
run "$KEDGE" sync --repo "$TMP/nothere.git" --ref main --state "$S"
is "$rc" 1 "a missing repository fails"
like "$err" "repository not found: $TMP/nothere.git" "repo not found"
git -C "$R.git" tag -d v1.2.0 >/dev/null
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S"
is "$(git -C "$S/mirror.git" tag | tr '\n' ' ')" "v1.0.0 v1.3.0-rc.1 v2.0.0 " "a tag deleted upstream is pruned from the mirror"
run "$KEDGE" sync --repo "$R.git" --ref "semver:^^1" --state "$S"
like "$err" "semver:\\^\\^1" "a bad range names itself"

# --- force push ------------------------------------------------------------
git -C "$R" reset -q --hard "$c2"
ok "a force push rewrites main" commit_file "$R" rewritten "yes"
cf=$(head_of "$R")
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S"
is "$out" "$cf $S/rev/$cf" "a force-pushed branch is followed"
ok "the rewritten tree has the new file" test -f "$S/rev/$cf/rewritten"
ok "and not the dropped ones" test ! -e "$S/rev/$cf/f5"

# --- Lua -------------------------------------------------------------------
run "$KEDGE" lua -e '
local git = require "kedge.git"
local state, url = ...
local r = assert(git.sync{repo = url, ref = "main", state = state})
print(r.commit == r.wanted, r.changed, r.objects)
local repo <close> = assert(git.open(state))
print(repo:id() == r.commit, repo:path())
io.write(repo:read("sites/berlin-01.yaml"))
for _, e in ipairs(repo:list("")) do io.write(e.name, ":", e.type, " ") end print()
local c = repo:commit()
print(c.id == r.commit, c.author.name, c.message, c.signature.state)
print(repo:read("nope.yaml"))
print(repo:read("../state"))
print(git.open(state .. "/none"))
print(git.sync{repo = url, ref = "nosuch", state = state})
' "$S" "$R.git"
is "$out" "true	false	0
true	$S/rev/$cf
name: berlin-01
bundles:dir kedge.yaml:file rewritten:file sites:dir 
true	kedge test	change rewritten
	not-checked
nil	nope.yaml: No such file or directory (commit ${cf:0:12})
nil	\"../state\": paths are relative to the repository and may not contain \"..\"
nil	$S/none has no current revision (run kedge sync first): No such file or directory
nil	ref \"nosuch\" not found in $R.git: no branch, tag or ref of that name (give a branch, a tag, a 40-hex commit id or semver:RANGE)" \
	"kedge.git: sync, open, read, list, commit and their errors"

# --- symlinks ----------------------------------------------------------------
ln -s ../kedge.yaml "$R/sites/link.yaml"
commit_file "$R" x "x"
run "$KEDGE" lua -e 'local git = require "kedge.git"
assert(git.sync{repo = select(2, ...), ref = "main", state = (...)})
local repo = assert(git.open((...)))
io.write(repo:read("sites/link.yaml"))' "$S" "$R.git"
is "$out" "defaults: {}" "a symlink inside the repo is followed"
ln -s /etc/passwd "$R/escape"
commit_file "$R" y "y"
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S"
is "$rc" 1 "a symlink out of the repo is refused"
like "$err" "symlink escape points outside the repository" "naming it"
ok "no temporary tree is left behind" sh -c "! ls -a '$S/rev' | grep -q '^\.tmp-'"
git -C "$R" rm -q escape && git -C "$R" commit -q -m "no escape" && git -C "$R" push -q origin HEAD:main

# --- the mirror's disk budget ------------------------------------------------
printf 'dropped\n%s\n' "$RANDOM$RANDOM" >"$R/dropped" && git -C "$R" add dropped && git -C "$R" commit -q -m drop && git -C "$R" push -q origin HEAD:main
dropped=$(git -C "$R" rev-parse HEAD:dropped)
"$KEDGE" sync --repo "$R.git" --ref main --state "$S" >/dev/null 2>&1
ok "the dropped blob is in the mirror" git -C "$S/mirror.git" cat-file -e "$dropped"
git -C "$R" reset -q --hard HEAD~1 && git -C "$R" push -q -f origin HEAD:main
for i in $(seq 1 18); do
	commit_file "$R" "packs/$i" "$i" && "$KEDGE" sync --repo "$R.git" --ref main --state "$S" >/dev/null 2>&1
done
ok "after many fetches the mirror keeps at most 17 packs" test "$(ls "$S/mirror.git/objects/pack/"*.pack | wc -l)" -le 17
ok "objects no ref reaches any more are gone" sh -c "! git -C '$S/mirror.git' cat-file -e $dropped 2>/dev/null"
ok "and the mirror is whole" git -C "$S/mirror.git" fsck --no-dangling --connectivity-only
run "$KEDGE" sync --repo "$R.git" --ref v2.0.0 --state "$S"
is "$rc" 0 "annotated tags survive the repack"

# --- two syncs at once -------------------------------------------------------
exec 9>"$S/lock"
flock 9
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S" --lock-timeout 0
is "$rc" 4 "a sync while another holds the state exits 4"
like "$err" "another kedge sync .* holds $S/lock" "saying who holds it"
( sleep 1; flock -u 9 ) &
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S" --lock-timeout 10
is "$rc" 0 "with --lock-timeout it waits for the other one"
exec 9>&-
for i in 1 2 3 4; do
	"$KEDGE" sync --repo "$R.git" --ref main --state "$S" >"$TMP/par$i.out" 2>&1 &
done
wait
is "$(cat "$TMP"/par*.out | grep -c "^$(head_of "$R") ")" 4 "four syncs started together all succeed, one after another"
ok "and the state is consistent" test "$(readlink "$S/current")" = "rev/$(head_of "$R")"

# --- git.remote_head on a local path: branches, tags, semver, ids ---
H=$TMP/heads
git init -q -b main "$H" && git -C "$H" commit -q --allow-empty -m one && git -C "$H" tag v1.0.0
git -C "$H" commit -q --allow-empty -m two && git -C "$H" tag -a v1.2.0 -m annotated
git -C "$H" commit -q --allow-empty -m three
run "$KEDGE" lua -e 'local git = require "kedge.git"
for _, ref in ipairs{"main", "v1.0.0", "v1.2.0", "semver:^1", "semver:^2", "nope", string.rep("ab", 20)} do
  local h, err = git.remote_head{repo = arg[1], ref = ref, state = arg[2]}
  print(ref, h and h.commit or "-", h and h.ref or err)
end' "$H" "$TMP/heads-state"
lines() { sed -n "$1p" <<<"$out"; }
is "$(lines 1)" "main	$(git -C "$H" rev-parse main)	refs/heads/main" "remote_head: a branch"
is "$(lines 2)" "v1.0.0	$(git -C "$H" rev-parse v1.0.0)	refs/tags/v1.0.0" "a lightweight tag"
is "$(lines 3)" "v1.2.0	$(git -C "$H" rev-parse 'v1.2.0^{commit}')	refs/tags/v1.2.0" "an annotated tag, peeled to its commit"
is "$(lines 4)" "semver:^1	$(git -C "$H" rev-parse 'v1.2.0^{commit}')	refs/tags/v1.2.0" "the highest tag in a semver range"
like "$(lines 5)" "no tag of .* matches semver range" "no tag in the range: an error"
like "$(lines 6)" "ref \"nope\" not found" "an unknown ref: an error naming it"
is "$(lines 7)" "$(printf 'ab%.0s' $(seq 20))	$(printf 'ab%.0s' $(seq 20))	$(printf 'ab%.0s' $(seq 20))" "a commit id is itself"
ok "nothing was written" test ! -e "$TMP/heads-state"

done_testing

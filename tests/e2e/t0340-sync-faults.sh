# Faults around the state directory: a disk that fills up during a fetch
# or a checkout (a small tmpfs), leftovers of an interrupted sync, a broken
# mirror, and a kedge killed halfway through.
. tests/lib.sh
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP mounting a small tmpfs needs root"
	exit 0
fi
. tests/gitlib.sh

R=$TMP/repo
F=$TMP/tmpfs
S=$F/state
mkdir -p "$F"
if ! mount -t tmpfs -o size=1m kedge-test "$F" 2>"$TMP/mount.err"; then
	echo "Bail out! cannot mount a tmpfs: $(cat "$TMP/mount.err")"
	exit 1
fi
ok "a config repo" new_repo "$R"
c1=$(head_of "$R")
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S"
is "$rc" 0 "a sync into a 1 MiB file system"

head -c 1500000 /dev/urandom >"$R/big.bin"
git -C "$R" add -A && git -C "$R" commit -q -m big && git -C "$R" push -q origin HEAD:main
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S"
is "$rc" 1 "a commit that does not fit fails"
like "$err" "disk full" "saying the disk is full"
like "$err" "$S" "and where"
is "$(readlink "$S/current")" "rev/$c1" "the last commit stays current"
is "$(cat "$S/rev/$c1/kedge.yaml")" "defaults: {}" "with its tree intact"
ok "no temporary tree is left" sh -c "! ls -a '$S/rev' | grep -q '^\.tmp-'"

# a tree that fits in the mirror but not when checked out beside it
mount -o remount,size=2600k "$F"
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S"
is "$rc" 1 "a tree that fits in the mirror but not beside it fails"
like "$err" "disk full: cannot (write|create) $S/rev/\.tmp-" "in the checkout, saying disk full"
is "$(readlink "$S/current")" "rev/$c1" "and current stays"
ok "without a half tree" sh -c "! ls -a '$S/rev' | grep -q '^\.tmp-'"

mount -o remount,size=16m "$F"
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S"
is "$rc" 0 "once there is room the same sync succeeds"
c2=$(head_of "$R")
is "$out" "$c2 $S/rev/$c2" "and serves the new commit"
is "$(cmp "$R/big.bin" "$S/rev/$c2/big.bin" && echo same)" same "intact"

# --- leftovers of an interrupted sync ---------------------------------------
mkdir -p "$S/rev/.tmp-0123-99999/half" "$S/mirror.git.tmp"
echo junk >"$S/rev/.tmp-0123-99999/half/file"
commit_file "$R" more "more"
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S"
is "$rc" 0 "a sync after an interrupted one succeeds"
ok "and removes the interrupted checkout" test ! -e "$S/rev/.tmp-0123-99999"

rm -rf "$S/mirror.git/objects" "$S/mirror.git/HEAD"
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S"
is "$rc" 0 "a broken mirror is made anew"
is "$(readlink "$S/current")" "rev/$(head_of "$R")" "and the sync completes"

# --- killed halfway ------------------------------------------------------------
umount "$F"
S=$TMP/state2
for i in $(seq 1 300); do printf '%s\n' "$i" >"$R/f$i"; done
head -c 3000000 /dev/urandom >"$R/big2.bin"
git -C "$R" add -A && git -C "$R" commit -q -m many && git -C "$R" push -q origin HEAD:main
"$KEDGE" sync --repo "$R.git" --ref "$c1" --state "$S" >/dev/null 2>&1
"$KEDGE" sync --repo "file://$R.git" --ref main --state "$S" >/dev/null 2>&1 &
pid=$!
sleep 0.05
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
cur=$(readlink "$S/current")
ok "after kill -9, current points at a whole tree" test -f "$S/$cur/kedge.yaml" -a -f "$S/$cur.json"
run "$KEDGE" sync --repo "file://$R.git" --ref main --state "$S"
is "$rc" 0 "the next sync succeeds"
is "$(readlink "$S/current")" "rev/$(head_of "$R")" "and serves the new commit"
ok "with every file" test "$(ls "$S/current/" | wc -l)" -ge 300

done_testing

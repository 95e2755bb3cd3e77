# Hostile trees at checkout (issue 21, finding 18): an entry named .git in
# any case is refused as git refuses it, and a blob over the per-file limit
# is refused by its size alone, naming the file and the limit, without
# being loaded by the checkout (its peak RSS stays far below the blob's
# size; the fetch's indexer still inflates it once, a libgit2 matter).
. tests/lib.sh
. tests/gitlib.sh

R=$TMP/repo
S=$TMP/state
ok "a config repo" new_repo "$R"
c1=$(head_of "$R")

# a tree with bundles/x/.GIT/config, made by hand (git add refuses it)
blob=$(printf '[core]\n\tfsmonitor = evil\n' | git -C "$R" hash-object -w --stdin)
inner=$(printf '100644 blob %s\tconfig\n' "$blob" | git -C "$R" mktree)
x=$(printf '040000 tree %s\t.GIT\n' "$inner" | git -C "$R" mktree)
bundles=$(printf '040000 tree %s\tx\n' "$x" | git -C "$R" mktree)
root=$( (git -C "$R" ls-tree HEAD; printf '040000 tree %s\tbundles\n' "$bundles") | git -C "$R" mktree)
evil=$(git -C "$R" commit-tree "$root" -p "$c1" -m "a .GIT folder")
ok "pushed a branch whose tree holds .GIT" git -C "$R" push -q origin "$evil:refs/heads/evil"
run "$KEDGE" sync --repo "$R.git" --ref evil --state "$S"
ok "sync of it fails" test "$rc" -ne 0
like "$err" 'entry named "\.GIT" in "bundles/x", which git refuses' "naming the entry and where"
ok "nothing is checked out" test ! -e "$S/rev/$evil"
ok "nothing is left aside" sh -c "! ls -a '$S/rev' 2>/dev/null | grep -q '^\.tmp-'"

# a 300 MB blob (zeros: small in the pack, big once loaded)
mkdir -p "$R/charts"
head -c 300M /dev/zero >"$R/charts/huge.bin"
git -C "$R" add charts/huge.bin && git -C "$R" commit -qm huge && git -C "$R" push -q origin HEAD:big
rm -f "$R/charts/huge.bin"
/usr/bin/time -f '%M' -o "$TMP/rss" "$KEDGE" sync --repo "$R.git" --ref big --state "$S" >"$TMP/out" 2>"$TMP/err"
rc=$?
ok "sync of the 300 MB file fails" test "$rc" -ne 0
like "$(cat "$TMP/err")" 'charts/huge\.bin is 314572800 bytes, over the per-file limit of [0-9]+ bytes \(KD_LIMIT_GIT_FILE_BYTES\)' \
	"naming the file, its size and the limit"
# the fetch itself (libgit2's indexer) still inflates the object once;
# the checkout, run again from the mirror, must not load it
/usr/bin/time -f '%M' -o "$TMP/rss" "$KEDGE" sync --repo "$R.git" --ref big --state "$S" >"$TMP/out" 2>"$TMP/err"
rss=$(tail -1 "$TMP/rss")
like "$(cat "$TMP/err")" 'KD_LIMIT_GIT_FILE_BYTES' "refused again from the mirror"
ok "the checkout does not load it (peak RSS $rss KiB)" test "$rss" -lt 51200
run "$KEDGE" sync --repo "$R.git" --ref main --state "$S"
is "$rc" 0 "main still syncs"
done_testing

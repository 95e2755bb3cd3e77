# A damaged mirror (truncated pack, missing objects, garbage HEAD) is moved
# aside and fetched anew with a warning, instead of failing every later
# sync and blaming --repo (issue 21, finding 8).
. tests/lib.sh
. tests/gitlib.sh

R=$TMP/repo
ok "a config repo" new_repo "$R"
for i in 1 2 3; do commit_file "$R" "f$i" "$i"; done
for kind in truncated missing head; do
	S=$TMP/state-$kind
	run "$KEDGE" sync --repo "$R.git" --ref main --state-dir "$S"
	is "$rc" 0 "$kind: first sync"
	case $kind in
	truncated) for p in "$S"/mirror.git/objects/pack/*.pack; do truncate -s 100 "$p"; done ;;
	missing) rm -f "$S"/mirror.git/objects/pack/* ;;
	head) echo garbage >"$S/mirror.git/HEAD" ;;
	esac
	commit_file "$R" "g-$kind" "$kind"
	run "$KEDGE" sync --repo "$R.git" --ref main --state-dir "$S"
	is "$rc" 0 "$kind: the next sync succeeds" || echo "# $err"
	is "$out" "$(head_of "$R") $S/rev/$(head_of "$R")" "$kind: at the new commit"
	like "$err" "the mirror in .* is damaged .*moved aside to mirror.git.damaged, fetching it anew" \
		"$kind: warning that the mirror was made anew"
	run "$KEDGE" sync --repo "$R.git" --ref main --state-dir "$S"
	is "$rc" 0 "$kind: and the one after"
done
done_testing

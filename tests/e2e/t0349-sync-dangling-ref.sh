# An upstream ref that names an object the upstream does not have (a
# dangling branch or tag, loose or in packed-refs) is skipped with a
# warning naming it, so syncs of other refs go on; asking for that very ref
# fails naming it, and leaves the state as it was (issue 21, finding 9).
# Over a local path, file:// and HTTPS (git http-backend behind lighttpd).
. tests/lib.sh
. tests/gitlib.sh

HTTPS=0
if command -v lighttpd >/dev/null 2>&1 && command -v openssl >/dev/null 2>&1; then
	HTTPS=1
	SRV=$TMP/srv
	make_ca "$SRV" && start_git_http "$SRV"
fi
# unlike GOT REGEX NAME
unlike() {
	! printf '%s' "$1" | grep -Eq -- "$2"
	tap_report $? "$3" "got:     $1
must not match: $2"
}
MISSING=1234567890abcdef1234567890abcdef12345678
MISSING2=fedcba0987654321fedcba0987654321fedcba09

# check LABEL BARE URL [sync options]: the whole story against one upstream.
# git's receive-pack refuses pushes while a ref is broken, so the commits
# are pushed first (under refs/keep/, which kedge does not fetch) and the
# branches moved on the server with update-ref.
check() {
	local l=$1 B=$2 U=$3 W=$TMP/work-$1 S=$TMP/state-$1
	shift 3
	sync() { run "$KEDGE" sync --state-dir "$S" --repo "$U" "$@"; }
	ok "$l: a config repo" new_repo "$W"
	rm -rf "$B" && mv "$W.git" "$B" && git -C "$W" remote set-url origin "$B"
	git -C "$W" push -q origin HEAD:other && git -C "$W" tag v1 && git -C "$W" push -q origin v1
	git -C "$W" checkout -q -b side && echo two >"$W/f2" && git -C "$W" add f2 &&
		git -C "$W" commit -q -m two && git -C "$W" push -q origin side:refs/keep/side
	c3=$(head_of "$W")
	git -C "$W" checkout -q main && echo one >"$W/f1" && git -C "$W" add f1 &&
		git -C "$W" commit -q -m one && git -C "$W" push -q origin HEAD:refs/keep/main
	c2=$(head_of "$W")
	git -C "$B" pack-refs --all
	sync "$@" --ref main
	is "$rc" 0 "$l: first sync"

	echo "$MISSING" >"$B/refs/heads/broken"
	git -C "$B" update-ref refs/heads/main "$c2"
	sync "$@" --ref main
	is "$rc" 0 "$l: a dangling branch upstream does not stop a sync of main"
	is "$out" "$c2 $S/rev/$c2" "$l: which moves to the new commit"
	like "$err" "WARN  upstream ref refs/heads/broken points to a missing object $MISSING; skipped" \
		"$l: warning with the ref and the object"
	unlike "$err" "check --repo" "$l: not blaming --repo"
	is "$(git -C "$S/mirror.git" for-each-ref --format='%(refname)' | tr '\n' ' ')" \
		"refs/heads/main refs/heads/other refs/tags/v1 " "$l: the intact refs are in the mirror"
	sync "$@" --ref other
	is "$rc" 0 "$l: another intact branch syncs too"

	git -C "$B" update-ref -d refs/heads/other
	git -C "$B" update-ref refs/heads/side "$c3"
	sync "$@" --ref side
	is "$rc" 0 "$l: a new branch"
	sync "$@" --ref "$c3"
	is "$rc" 0 "$l: --ref with a commit id"
	is "$out" "$c3 $S/rev/$c3" "$l: is checked out"
	is "$(git -C "$S/mirror.git" for-each-ref --format='%(refname)' | tr '\n' ' ')" \
		"refs/heads/main refs/heads/side refs/tags/v1 " "$l: a branch deleted upstream leaves the mirror"

	cur=$(readlink "$S/current")
	revs=$(rev_list "$S")
	st=$(cat "$S/status.json" 2>/dev/null)
	sync "$@" --ref broken
	is "$rc" 1 "$l: asking for the dangling branch fails"
	like "$err" "upstream ref refs/heads/broken points to object $MISSING, which the upstream repository .* does not have" \
		"$l: naming the ref and what is missing"
	unlike "$err" "check --repo" "$l: not blaming --repo"

	printf '%s refs/tags/vbad\n' "$MISSING2" >>"$B/packed-refs"
	if [ "$l" = https ]; then
		sync "$@" --ref v1
		is "$rc" 0 "$l: a dangling tag in packed-refs does not stop a sync of tag v1"
		like "$err" "upstream ref refs/tags/vbad points to a missing object $MISSING2; skipped" \
			"$l: warning names the tag"
		cur=$(readlink "$S/current") revs=$(rev_list "$S") st=$(cat "$S/status.json")
		sync "$@" --ref vbad
		is "$rc" 1 "$l: asking for the dangling tag fails"
		like "$err" "upstream ref refs/tags/vbad points to object $MISSING2" "$l: naming the tag"
	else
		# libgit2 1.5's local transport peels every tag when listing refs
		sync "$@" --ref main
		is "$rc" 1 "$l: a dangling tag in a local upstream fails every sync"
		like "$err" "upstream ref refs/tags/vbad points to object $MISSING2, which the upstream repository .* does not have; .*repair or delete that tag" \
			"$l: naming the tag and what to do"
	fi
	is "$(readlink "$S/current")" "$cur" "$l: current stays"
	is "$(rev_list "$S")" "$revs" "$l: no checkout was added or removed"
	is "$(cat "$S/status.json" 2>/dev/null)" "$st" "$l: status stays"

	git -C "$B" update-ref refs/heads/broken "$c2"
	grep -v vbad "$B/packed-refs" >"$B/packed-refs.new" && mv "$B/packed-refs.new" "$B/packed-refs"
	sync "$@" --ref broken
	is "$rc" 0 "$l: once repaired upstream, the branch syncs"
	is "$out" "$c2 $S/rev/$c2" "$l: at its commit"
	unlike "$err" "WARN" "$l: without warnings"
	is "$(git -C "$S/mirror.git" for-each-ref --format='%(refname)' | tr '\n' ' ')" \
		"refs/heads/broken refs/heads/main refs/heads/side refs/tags/v1 " "$l: every ref is back"
}

check local "$TMP/local.git" "$TMP/local.git"
check file "$TMP/file.git" "file://$TMP/file.git"
if [ "$HTTPS" = 1 ]; then
	check https "$SRV/repos/site.git" "$GOOD_URL/site.git" --ca-file "$SRV/ca.crt"
	# the normal case stays one ref advertisement and one pack request
	commit_file "$TMP/work-https" f3 three
	: >"$SRV/requests.log"
	run "$KEDGE" sync --state-dir "$TMP/state-https" --repo "$GOOD_URL/site.git" --ca-file "$SRV/ca.crt" --ref main
	is "$rc" 0 "https: a sync with nothing broken"
	is "$(grep -c '^GET' "$SRV/requests.log") $(grep -c '^POST' "$SRV/requests.log")" "1 1" \
		"https: one ref advertisement and one pack request"
fi
done_testing

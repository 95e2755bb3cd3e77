# Helpers for the fleet dashboard test and bench (sourced after tests/lib.sh):
# status branches pushed as sites push them, and a chromedriver on
# 127.0.0.1 driving headless Chromium (tests/fleet/webdriver.py).

# fleet_repo: the example repo committed in $W, cloned bare to $BARE; $C1
# is its commit.
fleet_repo() {
	W=$TMP/work
	BARE=$TMP/sites.git
	cp -r tests/example-repo "$W"
	git init -q -b main "$W"
	git -C "$W" add -A
	git -C "$W" -c user.name=t -c user.email=t@x commit -q -m one
	git clone -q --bare "$W" "$BARE"
	C1=$(git -C "$W" rev-parse HEAD)
}

# push_report SITE COMMIT RESULT AGE [BUNDLE=VERSION[:STATUS[:ERROR]] ...]
# [smoke:BUNDLE:TEST:STATUS[:MESSAGE] ...]: one report on kedge/status/SITE
push_report() {
	local site=$1 out id dir
	out=$("$KEDGE" lua tests/fleet/report.lua "$@") || return 1
	id=$(printf '%s\n' "$out" | head -n 1)
	git -C "$W" checkout -q "kedge/status/$site" 2>/dev/null || git -C "$W" checkout -q --orphan "kedge/status/$site"
	git -C "$W" rm -rq --cached . 2>/dev/null
	dir=$TMP/rep/$(printf '%s' "$site" | tr -c 'a-zA-Z0-9-' _)
	mkdir -p "$dir/reports"
	printf '%s\n' "$out" | sed 1d >"$dir/reports/$id.json"
	git -C "$W" --work-tree="$dir" add -A reports
	git -C "$W" -c user.name=kedge -c user.email=k@x commit -q -m "report $id"
	git -C "$W" push -q "$BARE" "kedge/status/$site"
	git -C "$W" checkout -q -f main
}

# start_chromedriver: chromedriver on a free port of 127.0.0.1, its URL in
# $WD_URL (empty when it does not answer within 20 s); stopped on exit.
WD_PID=
start_chromedriver() {
	local port i
	WD_URL=
	for i in 1 2 3 4 5; do
		port=$((20000 + (RANDOM % 20000)))
		nc -z 127.0.0.1 "$port" 2>/dev/null && continue
		chromedriver --port="$port" --allowed-ips=127.0.0.1 --log-path="$TMP/chromedriver.log" >/dev/null 2>&1 &
		WD_PID=$!
		trap 'kill "$WD_PID" 2>/dev/null; rm -rf "$TMP"' EXIT
		for _ in $(seq 1 200); do
			if curl -s -m 2 "http://127.0.0.1:$port/status" | grep -q '"ready": *true'; then
				WD_URL=http://127.0.0.1:$port
				return 0
			fi
			kill -0 "$WD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$WD_PID" 2>/dev/null
	done
	return 1
}

# Chromium's arguments as a JSON list: headless, no sandbox (the tests run
# as root), a profile of its own under $TMP, a fixed window.
chromium_args() {
	printf '["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", '
	printf '"--no-first-run", "--user-data-dir=%s/chrome", "--window-size=%s"]' "$TMP" "${1:-1400,900}"
}

# step NAME: the result line of step NAME in $steps_out
step() {
	printf '%s\n' "$steps_out" | awk -F '\t' -v n="$1" '$1 == n { sub(/^[^\t]*\t/, ""); print; exit }'
}

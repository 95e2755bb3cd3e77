# A Helm HTTP chart repository for the pack and bootstrap tests: chart
# folders packaged as `helm package` lays them out, an index.yaml with
# their sha256 digests, served by lighttpd over plain HTTP on 127.0.0.1
# (a chart repository on 127.0.0.0/8 may be plain HTTP, as a registry may).
# Sourced after tests/lib.sh and tests/gitlib.sh (free_port,
# wait_listening, server_pids).

# helm_repo_start DIR CHART_FOLDER...: sets HELM_REPO_URL.
helm_repo_start() {
	local dir=$1 c name version
	shift
	mkdir -p "$dir/www"
	printf 'apiVersion: v1\nentries:\n' >"$dir/www/index.yaml"
	for c in "$@"; do
		name=$(sed -n 's/^name: *//p' "$c/Chart.yaml")
		version=$(sed -n 's/^version: *//p' "$c/Chart.yaml")
		tar -C "$(dirname "$c")" -czf "$dir/www/$name-$version.tgz" "$(basename "$c")"
		printf '  %s:\n  - name: %s\n    version: %s\n    digest: %s\n    urls: [%s]\n' \
			"$name" "$name" "$version" "$(sha256sum "$dir/www/$name-$version.tgz" | cut -d' ' -f1)" \
			"$name-$version.tgz" >>"$dir/www/index.yaml"
	done
	free_port
	cat >"$dir/lighttpd.conf" <<EOC
server.document-root = "$dir/www"
server.bind          = "127.0.0.1"
server.port          = $port
server.pid-file      = "$dir/lighttpd.pid"
server.errorlog      = "$dir/error.log"
server.modules       = ("mod_accesslog")
accesslog.filename   = "$dir/access.log"
EOC
	lighttpd -D -f "$dir/lighttpd.conf" 2>"$dir/lighttpd.stderr" &
	server_pids+=($!)
	wait_listening "$port" "$dir/lighttpd.stderr"
	HELM_REPO_URL=http://127.0.0.1:$port
}

# helm_repo_stop: the repository goes away (an offline site).
helm_repo_stop() {
	kill "$(cat "$1/lighttpd.pid")" 2>/dev/null
}

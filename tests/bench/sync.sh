#!/usr/bin/env bash
# Config repo sync against the git CLI, over HTTPS to lighttpd + git
# http-backend on 127.0.0.1 (as in tests/e2e/t0310-sync-https.sh):
#   - a no-op poll: wall time, CPU time, peak RSS, bytes sent by the server
#   - the initial clone and an incremental fetch (10 new commits) of a
#     generated repo with 5,000 commits and 2,000 files, with checkout
# Prints figures only; run from the repository root after ./build.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/gitlib.sh
for tool in lighttpd openssl python3 cc; do
	command -v "$tool" >/dev/null || { echo "sync bench: $tool is missing (./build.sh test installs it)"; exit 1; }
done

# measure NAME CMD...: runs CMD through a small C helper (wait4 gives CPU
# time in microseconds and the peak RSS of CMD alone) and prints
# "NAME wall cpu rss_mib exit".
cat >"$TMP/rusage.c" <<'EOF'
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage ru;
	int st;
	pid_t p;
	(void)argc;
	clock_gettime(CLOCK_MONOTONIC, &a);
	p = fork();
	if (p == 0) {
		execvp(argv[1], argv + 1);
		_exit(127);
	}
	wait4(p, &st, 0, &ru);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.3f %.4f %.1f %d\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9,
	       ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	       ru.ru_maxrss / 1024.0, WIFEXITED(st) ? WEXITSTATUS(st) : 128);
	return 0;
}
EOF
cc -O2 -static -o "$TMP/rusage" "$TMP/rusage.c" 2>/dev/null || cc -O2 -o "$TMP/rusage" "$TMP/rusage.c" ||
	{ echo "sync bench: cannot build the measuring helper"; exit 1; }
measure() {
	local name=$1
	shift
	printf '%s ' "$name"
	"$TMP/rusage" "$@" 2>/dev/null </dev/null | tail -n 1
}

# lighttpd writes its access log about once a second; stopping it flushes
# it. server_bytes FROM: bytes sent after line FROM, then a fresh server.
server_bytes() {
	kill "$(cat "$SRV/lighttpd.pid")"
	while listening "$GOOD_PORT"; do sleep 0.05; done
	sleep 0.2
	awk -v from="$1" 'NR > from && $NF ~ /^[0-9]+$/ { n += $NF } END { print n + 0 }' "$SRV/access.log"
	restart_git_http "$SRV" >/dev/null
}
log_lines() { wc -l <"$SRV/access.log"; }

SRV=$TMP/srv
make_ca "$SRV" || { echo "sync bench: cannot make certificates"; exit 1; }
start_git_http "$SRV"
CA=$SRV/ca.crt
export GIT_SSL_CAINFO=$CA

# --- no-op poll ---------------------------------------------------------------
new_repo "$TMP/small" >/dev/null
mv "$TMP/small.git" "$SRV/repos/small.git"
"$KEDGE" sync --repo "$GOOD_URL/small.git" --ref main --state "$TMP/ks" --ca-file "$CA" >/dev/null 2>&1
git clone -q --bare "$GOOD_URL/small.git" "$TMP/gs.git"
echo "== no-op poll (repo unchanged), 20 runs each: median wall and CPU, largest peak RSS, bytes the server sent"
for tool in kedge git; do
	from=$(log_lines)
	for i in $(seq 1 20); do
		if [ "$tool" = kedge ]; then
			measure "$tool" "$KEDGE" sync --repo "$GOOD_URL/small.git" --ref main --state "$TMP/ks" --ca-file "$CA"
		else
			measure "$tool" git -C "$TMP/gs.git" fetch -q origin '+refs/heads/*:refs/heads/*'
		fi
	done >"$TMP/noop.$tool"
	bytes=$(server_bytes "$from")
	w=$(sort -k2,2n "$TMP/noop.$tool" | awk 'NR == 10 { print $2 }')
	c=$(sort -k3,3n "$TMP/noop.$tool" | awk 'NR == 10 { print $3 }')
	m=$(sort -k4,4n "$TMP/noop.$tool" | awk 'END { print $4 }')
	printf '%-6s wall %s s  cpu %s s  peak rss %s MiB  bytes/poll %d\n' "$tool" "$w" "$c" "$m" $((bytes / 20))
done

# --- 5,000 commits, 2,000 files -------------------------------------------------
echo "== generated repo: 5,000 commits, 2,000 files"
G=$SRV/repos/big.git
git init -q --bare "$G"
python3 - <<'EOF' | git -C "$G" fast-import --quiet
import sys
out = sys.stdout
mark = 0
def blob(data):
    global mark
    mark += 1
    out.write("blob\nmark :%d\ndata %d\n%s\n" % (mark, len(data), data))
    return mark
t = 1700000000
for c in range(5000):
    files = []
    if c == 0:
        for f in range(2000):
            files.append((f, blob("file %d\n" % f + "x" * (f % 500) + "\n")))
    else:
        f = (c * 7) % 2000
        files.append((f, blob("file %d rev %d\n" % (f, c) + "y" * (c % 700) + "\n")))
    msg = "commit %d\n" % c
    out.write("commit refs/heads/main\ncommitter Bench <b@kedge.invalid> %d +0000\ndata %d\n%s" % (t + c, len(msg), msg))
    for f, m in files:
        out.write("M 100644 :%d dir%02d/file%04d.txt\n" % (m, f % 40, f))
    out.write("\n")
EOF
git -C "$G" repack -adq
du -sh "$G" | awk '{print "repo size on the server: " $1}'
from=$(log_lines)
measure "kedge clone " "$KEDGE" sync --repo "$GOOD_URL/big.git" --ref main --state "$TMP/kb" --ca-file "$CA" >"$TMP/kc"
kb=$(server_bytes "$from")
from=$(log_lines)
measure "git clone  " git clone -q "$GOOD_URL/big.git" "$TMP/gb" >"$TMP/gc"
gb=$(server_bytes "$from")
git clone -q --bare "$G" "$TMP/push.git" 2>/dev/null
W=$TMP/pushwork
git clone -q "$G" "$W"
for i in $(seq 1 10); do
	echo "change $i" >>"$W/dir00/file0000.txt"
	git -C "$W" commit -qam "incremental $i"
done
git -C "$W" push -q origin HEAD:main
from=$(log_lines)
measure "kedge fetch " "$KEDGE" sync --repo "$GOOD_URL/big.git" --ref main --state "$TMP/kb" --ca-file "$CA" >"$TMP/kf"
kfb=$(server_bytes "$from")
from=$(log_lines)
measure "git fetch  " sh -c "git -C '$TMP/gb' fetch -q origin && git -C '$TMP/gb' checkout -q origin/main" >"$TMP/gf"
gfb=$(server_bytes "$from")
printf '%-22s %8s %8s %9s %12s\n' "" "wall s" "cpu s" "rss MiB" "server bytes"
while read -r a b wall cpu rss _; do
	case "$a $b" in
	"kedge clone") by=$kb ;; "git clone") by=$gb ;; "kedge fetch") by=$kfb ;; *) by=$gfb ;;
	esac
	printf '%-22s %8s %8s %9s %12s\n' "$a $b" "$wall" "$cpu" "$rss" "$by"
done < <(cat "$TMP/kc" "$TMP/gc" "$TMP/kf" "$TMP/gf")
awk 'FNR == 1 { w[FILENAME] = $3 } END { printf "clone wall ratio kedge/git: %.2f, fetch wall ratio kedge/git: %.2f\n", w[ARGV[1]] / w[ARGV[2]], w[ARGV[3]] / w[ARGV[4]] }' \
	"$TMP/kc" "$TMP/gc" "$TMP/kf" "$TMP/gf"

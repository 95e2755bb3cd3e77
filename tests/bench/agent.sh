#!/usr/bin/env bash
# kedge agent's costs, beside what users would run instead (prints figures,
# exit 0):
#   - the resident agent's RSS after 10 and after 1,000 no-op ticks (budget:
#     <= 5 MiB, no growth beyond 256 KiB)
#   - one no-op tick (`kedge agent --once`, repo unchanged: one ref
#     advertisement) against a local HTTPS git server (lighttpd + git
#     http-backend), wall and CPU time, beside `git fetch` and
#     `git ls-remote` of the same unchanged repo
#   - the peak RSS of the pass child on tests/bench/pass.sh's 20-bundle site
#     (tests/bench/site20.sh)
# Needs the local kube-apiserver of tests/servers/kube/ (the first tick
# applies the site) and ./build.sh's binary.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
export KEDGE_CACHE=${KEDGE_CACHE:-$HOME/.cache/kedge}
. tests/lib.sh
. tests/gitlib.sh
. tests/servers/kube/lib.sh
kube_start
trap 'kill $AGENT_PID 2>/dev/null; for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null; done; kube_cleanup' EXIT
. tests/agent/lib.sh

cat >"$TMP/rusage.c" <<'X'
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
	getrusage(RUSAGE_CHILDREN, &ru);
	printf("%.4f %.4f %.1f %d\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9,
	       ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6,
	       ru.ru_maxrss / 1024.0, WIFEXITED(st) ? WEXITSTATUS(st) : 128);
	return 0;
}
X
cc -O2 -o "$TMP/rusage" "$TMP/rusage.c" || { echo "agent bench: cannot build the helper"; exit 0; }
# median NAME N CMD...: median wall and CPU (children included) of N runs
median() {
	local name=$1 n=$2 i
	shift 2
	for i in $(seq 1 "$n"); do "$TMP/rusage" "$@" 2>/dev/null </dev/null | tail -n 1; done >"$TMP/m"
	printf '%-26s wall %s s  cpu %s s\n' "$name" \
		"$(sort -k1,1n "$TMP/m" | awk -v m=$(((n + 1) / 2)) 'NR == m { print $1 }')" \
		"$(sort -k2,2n "$TMP/m" | awk -v m=$(((n + 1) / 2)) 'NR == m { print $2 }')"
}

SRV=$TMP/srv
make_ca "$SRV" && start_git_http "$SRV" || { echo "agent bench: no git server"; exit 0; }
SITE=bench-agent
agent_repo "$SITE"
mv "$BARE" "$SRV/repos/sites.git"
agent_config "$SITE" "ca-file: $SRV/ca.crt
wait: 0s"
sed -i "s|^repo: .*|repo: $GOOD_URL/sites.git|" "$CONF"
"$KEDGE" agent --config "$CONF" --once >/dev/null 2>&1 || { echo "agent bench: the first tick failed"; exit 0; }
export GIT_SSL_CAINFO=$SRV/ca.crt
git clone -q --bare "$GOOD_URL/sites.git" "$TMP/gs.git" || { echo "agent bench: git clone failed"; exit 0; }
echo "== one no-op tick (repo unchanged) against HTTPS on 127.0.0.1, median of 21"
median "kedge agent --once" 21 "$KEDGE" agent --config "$CONF" --once
median "git fetch" 21 git -C "$TMP/gs.git" fetch -q origin '+refs/heads/*:refs/heads/*'
median "git ls-remote" 21 git ls-remote "$GOOD_URL/sites.git" main

echo "== the resident agent's RSS over no-op ticks (interval 10ms)"
sed -i 's/^interval: .*/interval: 10ms/' "$CONF"
agent_start
rss() { awk '/VmRSS/ { print $2 }' "/proc/$AGENT_PID/status"; }
for want in 10 1000; do
	for i in $(seq 1 3000); do [ "$(agent_json 'st.ticks')" -ge "$want" ] 2>/dev/null && break; sleep 0.05; done
	printf 'after %5s ticks: RSS %s KiB\n' "$(agent_json 'st.ticks')" "$(rss)"
done
agent_stop

echo "== the pass child's peak RSS on tests/bench/pass.sh's 20-bundle site (the first tick applies it)"
. tests/bench/site20.sh
if site20 "$TMP/site20"; then
	cat >"$AG/site20.yaml" <<X
site: bench
repo: $SITE20_REPO
ref: main
state-dir: $AG/state20
kubeconfig: $KUBE_ADMIN
wait: 0s
X
	"$TMP/rusage" "$KEDGE" agent --config "$AG/site20.yaml" --once |
		awk '{ printf "   first tick: exit %s, %s s, peak RSS %s MiB (the largest of the agent and its child)\n", $4, $1, $3 }'
else
	echo "   (no 20-bundle site: the corpus is not at $CHARTS)"
fi
exit 0

# kedge agent install/uninstall under --root: the unit systemd-analyze
# verify accepts, the sample config written once and kept after, and the
# journal's log format when $JOURNAL_STREAM names stderr.
. tests/lib.sh
R=$TMP/root
mkdir -p "$R"
run "$KEDGE" agent install --root "$R" --site lab-01 --repo https://git.example.org/sites.git
is "$rc" 0 "install under --root: exit 0"
U=$R/etc/systemd/system/kedge-agent.service
like "$out" "wrote $U" "it names the unit it wrote"
like "$out" "wrote $R/etc/kedge/agent.yaml" "and the sample config"
unit=$(cat "$U")
like "$unit" "Type=notify" "Type=notify"
like "$unit" "Restart=always" "Restart=always"
like "$unit" "WatchdogSec=[0-9]+s" "WatchdogSec"
like "$unit" "ProtectSystem=strict" "ProtectSystem=strict"
like "$unit" "ReadWritePaths=/var/lib/kedge" "the state dir writable"
like "$unit" "NoNewPrivileges=yes" "NoNewPrivileges"
like "$unit" "PrivateTmp=yes" "PrivateTmp"
like "$unit" "ProtectHome=yes" "ProtectHome"
like "$unit" "ExecStart=$KEDGE agent --config /etc/kedge/agent.yaml" "ExecStart runs this binary with the config"
mkdir -p "$TMP/units"
sed "s|^ExecStart=.*|ExecStart=$KEDGE agent --config $R/etc/kedge/agent.yaml|" "$U" >"$TMP/units/kedge-agent.service"
run systemd-analyze verify "$TMP/units/kedge-agent.service"
is "$rc" 0 "systemd-analyze verify accepts the unit"
is "$(grep -v '^#' "$R/etc/kedge/agent.yaml" | sed -n 's/^site: //p')" lab-01 "the sample config names the site"
run "$KEDGE" agent --config "$R/etc/kedge/agent.yaml" --once --state-dir "$TMP/st"
is "$rc" 1 "the sample config loads (its repo is unreachable: exit 1)"
like "$err" "git.example.org" "naming the repo"

printf 'site: lab-01\nrepo: /srv/sites.git\nstate-dir: /srv/kedge\nmetrics: {textfile: /var/lib/node_exporter/kedge.prom}\n' >"$R/etc/kedge/agent.yaml"
run "$KEDGE" agent install --root "$R"
like "$out" "kept $R/etc/kedge/agent.yaml" "a second install keeps the config"
like "$(cat "$U")" "ReadWritePaths=/srv/kedge /var/lib/node_exporter" "the unit follows its state dir and metrics folder"
run "$KEDGE" agent uninstall --root "$R"
is "$rc" 0 "uninstall: exit 0"
ok "the unit is gone" test ! -e "$U"
ok "the config stays" test -e "$R/etc/kedge/agent.yaml"
run "$KEDGE" agent install --root "$TMP/none"
is "$rc" 1 "a missing --root: exit 1"
like "$err" "none: no such folder" "naming it"

# the journal's format: no time, a syslog priority
(
	exec 2>"$TMP/journal.log"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$TMP/journal.log") "$KEDGE" agent --config "$TMP/missing.yaml" --once
	true
)
like "$(head -n 1 "$TMP/journal.log")" "^kedge agent: " "under the journal, messages go on as they were"
"$KEDGE" lua -e 'local log = require "kedge.log"; log.warn("low disk", {dir = "/x"}); log.error("broken")' 2>"$TMP/j2.log"
like "$(cat "$TMP/j2.log")" "^[0-9]{4}-[0-9]{2}-[0-9]{2}T.* WARN  low disk" "without JOURNAL_STREAM: a time and the level"
(
	exec 2>"$TMP/j3.log"
	JOURNAL_STREAM=$(stat -c '%d:%i' "$TMP/j3.log") "$KEDGE" lua -e 'local log = require "kedge.log"; log.warn("low disk", {dir = "/x"}); log.error("broken"); log.info("fine")'
)
is "$(cat "$TMP/j3.log")" "<4>low disk  dir=/x
<3>broken
<6>fine" "with JOURNAL_STREAM naming stderr: syslog priorities, no time"
(
	exec 2>"$TMP/j4.log"
	JOURNAL_STREAM=1:2 "$KEDGE" lua -e 'require("kedge.log").warn("elsewhere")'
)
like "$(cat "$TMP/j4.log")" "^[0-9]{4}-.* WARN  elsewhere" "a JOURNAL_STREAM naming another stream is ignored"

done_testing

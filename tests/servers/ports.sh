# free_port: sets $port to a TCP port nothing listens on at 127.0.0.1 and
# no earlier free_port of this test handed out. Sourced by tests/gitlib.sh
# and tests/servers/registry.sh (a test may source both: the ports taken
# are kept, not reset).
taken=${taken:-" "}
free_port() {
	local i
	for i in $(seq 1 100); do
		# below the kernel's ephemeral range (32768 and up), where an
		# outgoing connection's local port would make the bind fail
		port=$((20000 + RANDOM % 12000))
		[[ $taken == *" $port "* ]] && continue
		grep -q "^ *[0-9]*: [0-9A-F]*$(printf ':%04X' "$port") " /proc/net/tcp && continue
		taken+="$port "
		return 0
	done
	echo "Bail out! no free port found" && exit 1
}

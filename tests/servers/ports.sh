# Ports on 127.0.0.1 for the tests' real servers, sourced by tests/gitlib.sh
# and tests/servers/registry.sh (a test may source both, in either order;
# the ports handed out so far are kept across the second source).
#
#   listening PORT             is something listening on 127.0.0.1:PORT?
#   free_port                  sets $port to a free TCP port on 127.0.0.1
#   wait_listening PORT [LOG]  waits up to 30 s until something listens;
#                              LOG (the server's stderr) is shown if not

listening() {
	grep -q "^ *[0-9]*: 0100007F$(printf ':%04X' "$1") 00000000:0000 0A" /proc/net/tcp
}

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

# 30 s, for a loaded machine
wait_listening() {
	local i
	for i in $(seq 1 600); do
		listening "$1" && return 0
		sleep 0.05
	done
	echo "Bail out! nothing listens on 127.0.0.1:$1${2:+: $(tail -n 3 "$2" 2>/dev/null | tr '\n' ' ')}" && exit 1
}

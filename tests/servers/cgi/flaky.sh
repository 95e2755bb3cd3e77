# ?KEY: answers 503 (Retry-After: 1) the first time it sees KEY, then 200.
# Counts every hit in a state file beside the script.
state="${SCRIPT_FILENAME%/*}/state-$QUERY_STRING"
n=$(cat "$state" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$state"
if [ "$n" -eq 1 ]; then
	printf 'Status: 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain\r\n\r\n'
	printf 'busy, hit %s\n' "$n"
else
	printf 'Content-Type: text/plain\r\n\r\n'
	printf 'ok, hit %s\n' "$n"
fi

# No Content-Length: lighttpd sends this to HTTP/1.1 clients chunked.
# ?N makes the body N lines of 66 bytes (default 3). The pause after the
# first line makes lighttpd send the headers before it knows the length.
printf 'Content-Type: text/plain\r\n\r\n'
n=${QUERY_STRING:-3}
i=0
while [ "$i" -lt "$n" ]; do
	printf 'line %08d ...................................................\n' "$i"
	[ "$i" = 0 ] && sleep 0.2
	i=$((i + 1))
done

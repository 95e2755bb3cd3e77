# Echoes the request: method, a custom header, the body's length, the
# client's port and TLS client certificate name, then the body.
printf 'Content-Type: text/plain\r\n\r\n'
printf 'method=%s x-kedge=%s length=%s port=%s client=%s\n' "$REQUEST_METHOD" \
	"${HTTP_X_KEDGE:-}" "${CONTENT_LENGTH:-0}" "$REMOTE_PORT" "${SSL_CLIENT_S_DN_CN:-}"
[ "${CONTENT_LENGTH:-0}" -gt 0 ] && head -c "$CONTENT_LENGTH"
exit 0

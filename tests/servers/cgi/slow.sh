# Answers after 5 seconds: longer than the client's timeout in the test.
sleep 5
printf 'Content-Type: text/plain\r\n\r\nlate\n'

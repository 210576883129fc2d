#!/bin/sh
# stdout is the response; anything on stderr goes to `kumo logs exec-shell`.
body=$(cat)
echo "handling $REQUEST_METHOD $PATH_INFO" >&2
printf '%s %s: %s (query %s)\n' "$PREFIX" "$REQUEST_METHOD" "$body" "$QUERY_STRING"

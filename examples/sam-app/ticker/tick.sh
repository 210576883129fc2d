handler() {
  echo "tick: $1" >&2
  printf '{"ticked": true}'
}

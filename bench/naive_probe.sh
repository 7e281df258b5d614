#!/usr/bin/env bash
# The naive baseline: a typical CI health probe, one URL after another, curl with a 20 s
# timeout and 5 attempts backing off 1, 2, 4 and 8 s. Prints one line per URL.
# Usage: naive_probe.sh URL [URL ...]   (HEADER env var: an extra request header)
for url in "$@"; do
    result=fail
    for delay in 1 2 4 8 0; do
        if curl -fsS -o /dev/null --max-time 20 ${HEADER:+-H "$HEADER"} "$url" 2>/dev/null; then
            result=ok
            break
        fi
        [ "$delay" -gt 0 ] && sleep "$delay"
    done
    echo "$result $url"
done

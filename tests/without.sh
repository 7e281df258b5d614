#!/bin/sh
# Run a command as if this machine lacked the optional system pieces, to prove the
# self-tests skip (or, under CI=true, fail) cleanly where they are missing.
#
#   tests/without.sh engine|postgres|redis|all COMMAND...
#
# The pieces are hidden in a private mount namespace (root only: unshare -m), so nothing
# outside the command sees a change: each binary is covered by /dev/null (not executable,
# nor a regular file, so shutil.which and the sandbox's lookups pass it over). PostgreSQL
# loses only its server binaries: the client (psql) stays, as with postgresql-client alone.
# Redis loses redis-server.
set -eu
what=$1
shift
case $what in
  engine | postgres | redis | all) ;;
  *) echo "usage: $0 engine|postgres|redis|all COMMAND..." >&2; exit 2 ;;
esac
exec unshare -m --propagation private sh -eu -c '
  hide() { for f; do if [ -e "$f" ]; then mount --bind /dev/null "$f"; fi; done; }
  what=$1; shift
  if [ "$what" = engine ] || [ "$what" = all ]; then
    for dir in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
      hide "$dir/podman" "$dir/runc"
    done
  fi
  if [ "$what" = postgres ] || [ "$what" = all ]; then
    for dir in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
      hide "$dir/initdb" "$dir/pg_ctl" "$dir/postgres"
    done
    for dir in /usr/lib/postgresql/*/bin; do
      hide "$dir/initdb" "$dir/pg_ctl" "$dir/postgres"
    done
  fi
  if [ "$what" = redis ] || [ "$what" = all ]; then
    for dir in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
      hide "$dir/redis-server"
    done
  fi
  exec "$@"
' sh "$what" "$@"

#!/bin/bash
set -e
export PGDATA=/var/lib/postgresql/data/pgdata
exec docker-entrypoint.sh "$@"

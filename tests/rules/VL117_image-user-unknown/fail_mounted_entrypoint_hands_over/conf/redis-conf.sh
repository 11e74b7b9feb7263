#!/bin/sh
printf 'requirepass %s\n' "$REDISPASS" > /redis.conf
exec docker-entrypoint.sh redis-server /redis.conf

#!/bin/sh
printf 'requirepass %s\n' "$REDISPASS" > /redis.conf
exec redis-server /redis.conf

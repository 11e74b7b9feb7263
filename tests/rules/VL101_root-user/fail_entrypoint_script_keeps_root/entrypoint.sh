#!/bin/sh
set -e
# Wait for the broker, then run the command (as whoever started the container).
python -m app.wait_for_broker
exec "$@"

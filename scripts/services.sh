#!/usr/bin/env bash
# Start the services the tests need (PostgreSQL, Redis) when they are down (the machine
# usually starts them).
set -u
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! up 5432; then
  echo "PostgreSQL is down; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  for _ in $(seq 1 30); do up 5432 && break; sleep 1; done
fi
up 5432 || echo "WARNING: PostgreSQL still unreachable on 127.0.0.1:5432; its tests will fail." \
  "Start it with: pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
if ! up 6379; then
  echo "Redis is down; starting it"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no || true
  for _ in $(seq 1 10); do up 6379 && break; sleep 1; done
fi
up 6379 || echo "WARNING: Redis still unreachable on 127.0.0.1:6379; its tests will fail." \
  "Start it with: redis-server --daemonize yes"
exit 0

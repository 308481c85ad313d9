/**
 * What runs inside the demo image: an nginx front end proxying to a tiny Python HTTP API, which
 * writes a row to PostgreSQL and bumps a Redis counter per request; a client that resolves names
 * through the demo's DNS server calls the front end every 2 s and, on its 3rd round and every 10th
 * after, talks to Redis directly, which the demo policy does not allow.
 */

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export const FILES: Record<string, { mode: number; text: string }> = {
  'demo/nginx.conf': {
    mode: 0o644,
    text: `daemon off;
worker_processes 1;
error_log stderr;
events {}
http {
  access_log off;
  # Docker's embedded DNS: names are resolved per request, so the start order does not matter.
  resolver 127.0.0.11 valid=10s;
  server {
    listen 80;
    location / {
      set $api http://api:8080;
      proxy_pass $api;
    }
  }
}
`,
  },
  'demo/api.py': {
    mode: 0o755,
    text: `#!/usr/bin/python3
"""The demo API: every GET writes a visit to PostgreSQL and counts it in Redis."""
import json, subprocess
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SQL = "create table if not exists visits (id serial primary key, at timestamptz default now()); insert into visits default values returning id;"

def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=5)

class Api(BaseHTTPRequestHandler):
    def do_GET(self):
        db = run(["psql", "-h", "db", "-U", "postgres", "-d", "postgres", "-qtAc", SQL])
        cache = run(["redis-cli", "-h", "cache", "incr", "hits"])
        ok = db.returncode == 0 and cache.returncode == 0
        body = json.dumps({"visit": db.stdout.strip(), "hits": cache.stdout.strip(), "error": (db.stderr + cache.stderr).strip()}).encode()
        self.send_response(200 if ok else 502)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("0.0.0.0", 8080), Api).serve_forever()
`,
  },
  'demo/db.sh': {
    mode: 0o755,
    text: `#!/bin/sh
# PostgreSQL from Debian's package, initialised on first start, reachable from the demo network.
set -e
D=/var/lib/postgresql/demo
if [ ! -s "$D/PG_VERSION" ]; then
  mkdir -p "$D" && chown postgres:postgres "$D"
  su postgres -s /bin/sh -c "${PG_BIN}/initdb -D $D -U postgres --auth=trust" >/dev/null
  echo "host all all 0.0.0.0/0 trust" >> "$D/pg_hba.conf"
fi
exec su postgres -s /bin/sh -c "exec ${PG_BIN}/postgres -D $D -c listen_addresses=* -c unix_socket_directories=/tmp"
`,
  },
  'demo/client.sh': {
    mode: 0o755,
    text: `#!/bin/sh
# Names through the demo's DNS server (its address from Docker's resolver), so they show as DNS.
until dns=$(getent hosts dns | cut -d' ' -f1) && [ -n "$dns" ]; do sleep 1; done
echo "nameserver $dns" > /etc/resolv.conf
# Legitimate traffic every 2 s; on the 3rd round (a violation within seconds of the start) and
# every 10th after, a direct Redis call the policy does not allow.
n=0
while true; do
  code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' http://web/)
  echo "$(date +%T) web: $code"
  n=$((n + 1))
  if [ $((n % 10)) -eq 3 ]; then
    echo "$(date +%T) cache (not allowed): $(timeout 3 redis-cli -h cache ping 2>&1)"
  fi
  sleep 2
done
`,
  },
};

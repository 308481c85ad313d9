#!/usr/bin/env bash
# Regenerates the reference captures in this directory from real Debian servers and clients.
#
# Two private network namespaces (client, server) are joined by one veth pair; every server runs
# only inside the server namespace, every client only inside the client namespace, and tcpdump
# records the client-side veth. The labelled tables (expected.tsv, expected-meta.tsv) are derived
# from the finished captures with tshark, so they describe what is on the wire rather than what
# this script meant to send.
#
# Usage (root): packages/dp/test/captures/make-captures.sh
# Needs the Debian packages listed in README.md. The script is idempotent: it rewrites every
# capture and both tables, and leaves nothing running or configured behind.
set -euo pipefail

OUT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# A unique prefix per run keeps concurrent or leftover runs from colliding; interface names
# must stay within the kernel's 15-character limit.
PFX="mc$(printf '%04x' $((RANDOM)))$$"
PFX=${PFX:0:11}
NS_C="${PFX}-cli"
NS_S="${PFX}-srv"
IF_C="${PFX}c"
IF_S="${PFX}s"
C4=10.200.0.1
S4=10.200.0.2
C6=fd00:200::1
S6=fd00:200::2

WORK=""
# Only what this run created is removed: a name clash must never tear down someone else's namespace.
NS_CREATED=()
LINK_CREATED=0
SSHD_RUN_CREATED=0
TCPDUMP_PID=""
SERVER_PIDS=()

log() { printf '[make-captures] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

cleanup() {
  local rc=$?
  set +e
  [ -n "$TCPDUMP_PID" ] && kill -INT "$TCPDUMP_PID" 2>/dev/null
  local pid ns
  for pid in "${SERVER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  # Anything still alive inside our own namespaces was started by this run (daemons that
  # forked away from the tracked pid); it is ended by id before the namespaces go away.
  for ns in "${NS_CREATED[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$pid" 2>/dev/null; done
  done
  local i alive
  for i in $(seq 1 50); do
    alive=0
    for ns in "${NS_CREATED[@]}"; do
      [ -n "$(ip netns pids "$ns" 2>/dev/null)" ] && alive=1
    done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for ns in "${NS_CREATED[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  # A veth pair that never made it into the namespaces is still in the host namespace.
  [ "$LINK_CREATED" = 1 ] && ip link show "$IF_C" >/dev/null 2>&1 && ip link del "$IF_C"
  [ "$SSHD_RUN_CREATED" = 1 ] && rmdir /run/sshd 2>/dev/null
  [ -n "$WORK" ] && rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, tcpdump)"
for bin in /usr/bin/python3 ip tcpdump tshark xxd ss curl openssl dig dnsmasq nginx redis-server redis-cli \
           mariadbd mariadb-install-db mariadb sshd ssh ssh-keygen memcached memcstat memccp \
           mosquitto mosquitto_pub vsftpd setpriv; do
  command -v "$bin" >/dev/null || die "missing $bin (see README.md for the package list)"
done
# The SMTP server is Debian's python3-aiosmtpd, installed for the system interpreter.
/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null || die "missing python3-aiosmtpd"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$PG_BIN/postgres" ] && command -v psql >/dev/null || die "missing postgresql server/client"

WORK=$(mktemp -d /tmp/mseg-captures.XXXXXX)
chmod 755 "$WORK"
mkdir "$WORK/pcap"

# ---------------------------------------------------------------- namespaces
# Each step is recorded only after it succeeded (errexit stops the script on a failure).
ip netns add "$NS_C"
NS_CREATED+=("$NS_C")
ip netns add "$NS_S"
NS_CREATED+=("$NS_S")
ip link add "$IF_C" type veth peer name "$IF_S"
LINK_CREATED=1
ip link set "$IF_C" netns "$NS_C"
ip link set "$IF_S" netns "$NS_S"
setup_ns() {
  local ns=$1 ifc=$2 a4=$3 a6=$4
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$a4/24" dev "$ifc"
  # nodad: the address is usable at once instead of after duplicate address detection.
  ip -n "$ns" addr add "$a6/64" dev "$ifc" nodad
  ip -n "$ns" link set "$ifc" up
}
setup_ns "$NS_C" "$IF_C" "$C4" "$C6"
setup_ns "$NS_S" "$IF_S" "$S4" "$S6"

cx() { ip netns exec "$NS_C" timeout 20 "$@"; }

# Starts a long-running server in the server namespace and remembers its pid for cleanup.
# Every server is kept in the foreground so the pid is the server itself.
srv_start() {
  local logf=$1; shift
  ip netns exec "$NS_S" "$@" >"$logf" 2>&1 &
  SERVER_PIDS+=("$!")
}

srv_stop() {
  local pid=${SERVER_PIDS[-1]} i
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset 'SERVER_PIDS[-1]'
}

# Waits until at least COUNT sockets (default 1) in the server namespace listen on PORT
# (tcp or udp), at most ~15 s.
wait_listen() {
  local l4=$1 port=$2 count=${3:-1} i flag=-ltnH
  [ "$l4" = udp ] && flag=-lunH
  for i in $(seq 1 150); do
    if [ "$(ip netns exec "$NS_S" ss "$flag" "sport = :$port" | wc -l)" -ge "$count" ]; then return 0; fi
    if ! kill -0 "${SERVER_PIDS[-1]}" 2>/dev/null; then break; fi
    sleep 0.1
  done
  log "server for $l4/$port did not come up; its log:"
  cat "$WORK"/*.log >&2 2>/dev/null || true
  die "server on $l4/$port not listening"
}

# Runs CLIENT_FN (with its args) while tcpdump records the client veth into NAME.pcap.
# Only TCP and UDP are kept: neighbour discovery and ARP vary from run to run and belong to no flow.
capture() {
  local name=$1; shift
  local tmp="$WORK/pcap/$name.pcap" errf="$WORK/tcpdump-$name.err" i
  # --immediate-mode: with TPACKET_V3 libpcap otherwise holds packets in a ring block until it
  # fills or times out, and frames still in that block are lost when tcpdump is interrupted.
  ip netns exec "$NS_C" tcpdump -i "$IF_C" -s 4096 --immediate-mode -U -Z root -w "$tmp" 'tcp or udp' 2>"$errf" &
  TCPDUMP_PID=$!
  for i in $(seq 1 100); do grep -q 'listening on' "$errf" && break; sleep 0.05; done
  grep -q 'listening on' "$errf" || die "tcpdump did not start: $(cat "$errf")"
  "$@"
  # Let the last FIN/ACK exchange reach the wire before the capture ends.
  sleep 0.5
  kill -INT "$TCPDUMP_PID"
  wait "$TCPDUMP_PID" || true
  TCPDUMP_PID=""
  log "captured $name.pcap ($(stat -c %s "$tmp") bytes)"
}

# The server address for family 4 or 6: bracketed for URLs and host:port pairs, or bare.
url_host() { if [ "$1" = 4 ]; then echo "$S4"; else echo "[$S6]"; fi; }
raw_host() { if [ "$1" = 4 ]; then echo "$S4"; else echo "$S6"; fi; }

# ---------------------------------------------------------------- shared material
# One self-signed certificate for every TLS server; the names match the SNI the clients send.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
  -subj /CN=app.test -addext subjectAltName=DNS:app.test,DNS:api.test \
  -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
chmod 644 "$WORK/tls.key"

# ---------------------------------------------------------------- HTTP and TLS (nginx)
mkdir -p "$WORK/www"
printf '<!doctype html><title>mseg</title><p>reference capture</p>\n' >"$WORK/www/index.html"

nginx_start() {
  local port=$1 ssl=$2 listen
  if [ "$ssl" = yes ]; then listen="ssl"; else listen=""; fi
  cat >"$WORK/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path $WORK/ngx-body;
  proxy_temp_path $WORK/ngx-proxy;
  fastcgi_temp_path $WORK/ngx-fcgi;
  uwsgi_temp_path $WORK/ngx-uwsgi;
  scgi_temp_path $WORK/ngx-scgi;
  server {
    listen $S4:$port $listen;
    listen [$S6]:$port $listen;
    server_name app.test api.test;
    root $WORK/www;
    ssl_certificate $WORK/tls.crt;
    ssl_certificate_key $WORK/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
  }
}
EOF
  srv_start "$WORK/nginx.log" nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"
  wait_listen tcp "$port"
}

# Two connections with different Host headers: one page that exists, one that does not.
http_clients() {
  local fam=$1 port=$2 ip; ip=$(url_host "$fam")
  cx curl -sS -o /dev/null --resolve "app.test:$port:$ip" "http://app.test:$port/"
  cx curl -sS -o /dev/null --resolve "api.test:$port:$ip" "http://api.test:$port/missing"
}

# curl sends a full HTTPS request with SNI app.test; openssl s_client only does the handshake,
# with SNI api.test, so the two flows are told apart by name.
tls_clients() {
  local fam=$1 port=$2 ver=$3 ip; ip=$(url_host "$fam")
  if [ "$ver" = 12 ]; then
    cx curl -sS -k -o /dev/null --tlsv1.2 --tls-max 1.2 --resolve "app.test:$port:$ip" "https://app.test:$port/"
    cx openssl s_client -connect "$ip:$port" -servername api.test -tls1_2 </dev/null >/dev/null 2>&1
  else
    cx curl -sS -k -o /dev/null --tlsv1.3 --tls-max 1.3 --resolve "app.test:$port:$ip" "https://app.test:$port/"
    cx openssl s_client -connect "$ip:$port" -servername api.test -tls1_3 </dev/null >/dev/null 2>&1
  fi
}

for port in 80 5432; do
  nginx_start "$port" no
  for fam in 4 6; do capture "http-v$fam-$port" http_clients "$fam" "$port"; done
  srv_stop
done
for port in 443 80; do
  nginx_start "$port" yes
  for fam in 4 6; do
    capture "tls12-v$fam-$port" tls_clients "$fam" "$port" 12
    capture "tls13-v$fam-$port" tls_clients "$fam" "$port" 13
  done
  srv_stop
done

# ---------------------------------------------------------------- DNS (dnsmasq)
dns_start() {
  local port=$1
  # Authoritative-only: no upstream, no /etc/hosts; names under .test are answered locally.
  srv_start "$WORK/dnsmasq.log" dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv \
    --no-hosts --pid-file= --bind-interfaces --listen-address="$S4" --listen-address="$S6" \
    --port="$port" --local=/test/ --host-record="app.test,$S4,$S6" \
    --txt-record="info.app.test,mseg reference capture"
  wait_listen udp "$port"
  wait_listen tcp "$port"
}
dns_clients() {
  local fam=$1 port=$2 tcp=$3 ip; ip=$(raw_host "$fam")
  local opt="+notcp"; [ "$tcp" = yes ] && opt="+tcp"
  cx dig "$opt" +tries=1 +time=3 -p "$port" "@$ip" app.test A >/dev/null
  cx dig "$opt" +tries=1 +time=3 -p "$port" "@$ip" app.test AAAA >/dev/null
  cx dig "$opt" +tries=1 +time=3 -p "$port" "@$ip" info.app.test TXT >/dev/null
  cx dig "$opt" +tries=1 +time=3 -p "$port" "@$ip" missing.test A >/dev/null
}
for port in 53 5353; do
  dns_start "$port"
  for fam in 4 6; do
    capture "dns-udp-v$fam-$port" dns_clients "$fam" "$port" no
    capture "dns-tcp-v$fam-$port" dns_clients "$fam" "$port" yes
  done
  srv_stop
done

# ---------------------------------------------------------------- Redis
redis_clients() {
  local fam=$1 port=$2 ip; ip=$(raw_host "$fam")
  cx redis-cli -h "$ip" -p "$port" PING >/dev/null
  cx redis-cli -h "$ip" -p "$port" SET mseg:key reference >/dev/null
  cx redis-cli -h "$ip" -p "$port" GET mseg:key >/dev/null
}
mkdir -p "$WORK/redis"
for port in 6379 7777; do
  srv_start "$WORK/redis.log" redis-server --port "$port" --bind "$S4" "$S6" --protected-mode no \
    --save '' --appendonly no --dir "$WORK/redis" --daemonize no
  wait_listen tcp "$port"
  for fam in 4 6; do capture "redis-v$fam-$port" redis_clients "$fam" "$port"; done
  srv_stop
done

# ---------------------------------------------------------------- PostgreSQL
# A throwaway cluster owned by the postgres account (the server refuses to run as root), with
# trust auth and SSL on, so one capture holds both a plain start and an SSLRequest start.
PGDATA="$WORK/pgdata"
mkdir -p "$PGDATA" "$WORK/pgsock"
chown postgres: "$PGDATA" "$WORK/pgsock"
setpriv --reuid=postgres --regid=postgres --init-groups \
  "$PG_BIN/initdb" -D "$PGDATA" -U postgres --auth=trust --no-sync >"$WORK/initdb.log" 2>&1 \
  || die "initdb failed: $(cat "$WORK/initdb.log")"
cp "$WORK/tls.crt" "$PGDATA/server.crt"
cp "$WORK/tls.key" "$PGDATA/server.key"
chown postgres: "$PGDATA/server.crt" "$PGDATA/server.key"
chmod 600 "$PGDATA/server.key"
cat >"$PGDATA/pg_hba.conf" <<'EOF'
local all all trust
host  all all 0.0.0.0/0 trust
host  all all ::/0 trust
EOF
pg_clients() {
  local fam=$1 port=$2 ip; ip=$(raw_host "$fam")
  # gssencmode=disable: otherwise libpq may first probe GSSAPI encryption when a ticket cache exists.
  cx psql "host=$ip port=$port user=postgres dbname=postgres sslmode=disable gssencmode=disable" \
    -Atc 'select 1' >/dev/null
  cx psql "host=$ip port=$port user=postgres dbname=postgres sslmode=require gssencmode=disable" \
    -Atc 'select 2' >/dev/null
}
for port in 5432 6543; do
  srv_start "$WORK/postgres.log" setpriv --reuid=postgres --regid=postgres --init-groups \
    "$PG_BIN/postgres" -D "$PGDATA" -p "$port" -c listen_addresses='*' \
    -c unix_socket_directories="$WORK/pgsock" -c ssl=on -c fsync=off
  wait_listen tcp "$port"
  for fam in 4 6; do capture "postgresql-v$fam-$port" pg_clients "$fam" "$port"; done
  srv_stop
done

# ---------------------------------------------------------------- MySQL (MariaDB)
MYDATA="$WORK/mydata"
mkdir -p "$MYDATA" "$WORK/mysock"
chown mysql: "$MYDATA" "$WORK/mysock"
mariadb-install-db --no-defaults --datadir="$MYDATA" --user=mysql --skip-test-db \
  --auth-root-authentication-method=socket >"$WORK/mariadb-install.log" 2>&1 \
  || die "mariadb-install-db failed: $(cat "$WORK/mariadb-install.log")"
# --skip-ssl keeps the login phase readable on the wire: a client that finds the server able to
# do TLS would otherwise switch to it right after the greeting.
my_clients() {
  local fam=$1 port=$2 ip; ip=$(raw_host "$fam")
  cx mariadb --no-defaults --protocol=TCP -h "$ip" -P "$port" -u app -papp-secret --skip-ssl \
    -e 'select version()' >/dev/null
  cx mariadb --no-defaults --protocol=TCP -h "$ip" -P "$port" -u app -papp-secret --skip-ssl \
    mseg -e 'select 1' >/dev/null
}
my_first=yes
for port in 3306 13306; do
  srv_start "$WORK/mariadb.log" mariadbd --no-defaults --datadir="$MYDATA" --user=mysql \
    --socket="$WORK/mysock/mysqld.sock" --port="$port" --bind-address="$S4,$S6" \
    --pid-file="$WORK/mysock/mysqld.pid" --skip-log-bin --innodb-buffer-pool-size=16M \
    --skip-name-resolve
  wait_listen tcp "$port"
  if [ "$my_first" = yes ]; then
    # The account is created over the local socket, so this setup never shows in a capture.
    ip netns exec "$NS_S" mariadb --no-defaults -S "$WORK/mysock/mysqld.sock" -u root -e \
      "CREATE DATABASE mseg; CREATE USER 'app'@'%' IDENTIFIED BY 'app-secret'; GRANT ALL ON mseg.* TO 'app'@'%';"
    my_first=no
  fi
  for fam in 4 6; do capture "mysql-v$fam-$port" my_clients "$fam" "$port"; done
  srv_stop
done

# ---------------------------------------------------------------- SSH
# sshd insists on its privilege-separation directory; create it only if missing and remove it after.
if [ ! -d /run/sshd ]; then mkdir -m 755 /run/sshd; SSHD_RUN_CREATED=1; fi
mkdir -m 700 "$WORK/ssh"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/host_ed25519" -C mseg-host
ssh-keygen -q -t ed25519 -N '' -f "$WORK/ssh/client_ed25519" -C mseg-client
cp "$WORK/ssh/client_ed25519.pub" "$WORK/ssh/authorized_keys"
ssh_clients() {
  local fam=$1 port=$2 ip; ip=$(raw_host "$fam")
  cx ssh -F /dev/null -i "$WORK/ssh/client_ed25519" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -p "$port" "root@$ip" true
}
for port in 22 2222; do
  # StrictModes off: the key files live under /tmp, whose permissions sshd would reject.
  srv_start "$WORK/sshd.log" "$(command -v sshd)" -D -e -f /dev/null -p "$port" \
    -h "$WORK/ssh/host_ed25519" -o ListenAddress=0.0.0.0 -o ListenAddress=:: \
    -o PermitRootLogin=prohibit-password -o PasswordAuthentication=no -o StrictModes=no \
    -o AuthorizedKeysFile="$WORK/ssh/authorized_keys" -o UsePAM=no -o PidFile=none
  wait_listen tcp "$port"
  for fam in 4 6; do capture "ssh-v$fam-$port" ssh_clients "$fam" "$port"; done
  srv_stop
done

# ---------------------------------------------------------------- Memcached
printf 'mseg reference value\n' >"$WORK/mseg-item"
mc_clients() {
  local fam=$1 port=$2 ip; ip=$(url_host "$fam")
  cx memccp --servers="$ip:$port" "$WORK/mseg-item" >/dev/null
  cx memcstat --servers="$ip:$port" >/dev/null
}
for port in 11211 21211; do
  srv_start "$WORK/memcached.log" memcached -u memcache -p "$port" -U 0 -l "$S4,[$S6]" -m 16
  wait_listen tcp "$port"
  for fam in 4 6; do capture "memcached-v$fam-$port" mc_clients "$fam" "$port"; done
  srv_stop
done

# ---------------------------------------------------------------- MQTT (mosquitto)
mqtt_clients() {
  local fam=$1 port=$2 ip; ip=$(raw_host "$fam")
  cx mosquitto_pub -h "$ip" -p "$port" -i mseg-pub -t mseg/reference -m 'hello from mseg'
  cx mosquitto_pub -h "$ip" -p "$port" -i mseg-pub-qos1 -q 1 -t mseg/qos1 -m 'acknowledged'
}
for port in 1883 11883; do
  cat >"$WORK/mosquitto.conf" <<EOF
user mosquitto
persistence false
log_dest stderr
allow_anonymous true
listener $port $S4
listener $port $S6
EOF
  srv_start "$WORK/mosquitto.log" mosquitto -c "$WORK/mosquitto.conf"
  wait_listen tcp "$port"
  for fam in 4 6; do capture "mqtt-v$fam-$port" mqtt_clients "$fam" "$port"; done
  srv_stop
done

# ---------------------------------------------------------------- FTP (vsftpd)
# Anonymous read-only; the root must belong to root and not be writable, as vsftpd demands.
mkdir -p "$WORK/ftp"
printf 'mseg reference file\n' >"$WORK/ftp/readme.txt"
chmod 755 "$WORK/ftp"
ftp_clients() {
  local fam=$1 port=$2 ip; ip=$(url_host "$fam")
  cx curl -sS -o /dev/null "ftp://$ip:$port/readme.txt"
}
for port in 21 2121; do
  cat >"$WORK/vsftpd.conf" <<EOF
listen=NO
listen_ipv6=YES
listen_port=$port
background=NO
anonymous_enable=YES
local_enable=NO
write_enable=NO
anon_root=$WORK/ftp
no_anon_password=YES
secure_chroot_dir=/var/run/vsftpd/empty
xferlog_enable=NO
pasv_enable=YES
pasv_min_port=30000
pasv_max_port=30010
EOF
  srv_start "$WORK/vsftpd.log" vsftpd "$WORK/vsftpd.conf"
  wait_listen tcp "$port"
  for fam in 4 6; do capture "ftp-v$fam-$port" ftp_clients "$fam" "$port"; done
  srv_stop
done

# ---------------------------------------------------------------- SMTP (aiosmtpd)
# aiosmtpd listens on one address per process, so each port gets an IPv4 and an IPv6 instance.
# The Debian module lives under the system interpreter, hence /usr/bin/python3 explicitly.
printf 'From: ops@client.test\r\nTo: app@app.test\r\nSubject: mseg reference\r\n\r\nhello\r\n' >"$WORK/mail.txt"
smtp_clients() {
  local fam=$1 port=$2 ip; ip=$(url_host "$fam")
  cx curl -sS "smtp://$ip:$port/client.test" --mail-from ops@client.test --mail-rcpt app@app.test \
    -T "$WORK/mail.txt"
}
for port in 25 2525; do
  srv_start "$WORK/smtp4.log" /usr/bin/python3 -m aiosmtpd -n -l "$S4:$port"
  wait_listen tcp "$port"
  srv_start "$WORK/smtp6.log" /usr/bin/python3 -m aiosmtpd -n -l "$S6:$port"
  wait_listen tcp "$port" 2
  for fam in 4 6; do capture "smtp-v$fam-$port" smtp_clients "$fam" "$port"; done
  srv_stop
  srv_stop
done

# ---------------------------------------------------------------- tables
# Per capture: application, transport, the tshark dissector to force on the port (so nothing
# depends on tshark's port guesses), and the display filter that proves a flow carries the protocol.
spec() {
  case "$1" in
    http-*)       echo "HTTP tcp http http" ;;
    tls12-*|tls13-*) echo "TLS tcp tls tls.handshake.type==1" ;;
    dns-udp-*)    echo "DNS udp dns dns" ;;
    dns-tcp-*)    echo "DNS tcp dns dns" ;;
    redis-*)      echo "Redis tcp resp resp" ;;
    postgresql-*) echo "PostgreSQL tcp pgsql pgsql" ;;
    mysql-*)      echo "MySQL tcp mysql mysql" ;;
    ssh-*)        echo "SSH tcp ssh ssh.protocol" ;;
    memcached-*)  echo "Memcached tcp memcache memcache" ;;
    mqtt-*)       echo "MQTT tcp mqtt mqtt" ;;
    ftp-*)        echo "FTP tcp ftp ftp" ;;
    smtp-*)       echo "SMTP tcp smtp smtp" ;;
    *) die "no spec for $1" ;;
  esac
}

# Prints "stream<TAB>client<TAB>server" for each flow; the client is the SYN sender for TCP and
# the query sender for UDP. IPv6 endpoints are written [addr]:port as in the nDPI table.
flows() {
  local pcap=$1 l4=$2; shift 2
  local sel
  if [ "$l4" = tcp ]; then sel="tcp.flags.syn==1 && tcp.flags.ack==0"; else sel="dns.flags.response==0"; fi
  tshark -r "$pcap" "$@" -Y "$sel" -T fields -E separator=/t \
    -e "$l4.stream" -e ip.src -e ipv6.src -e "$l4.srcport" -e ip.dst -e ipv6.dst -e "$l4.dstport" \
    2>>"$WORK/tshark.err" |
    awk -F'\t' '!seen[$1]++ {
      c = ($2 != "") ? $2 ":" $4 : "[" $3 "]:" $4
      s = ($5 != "") ? $5 ":" $7 : "[" $6 "]:" $7
      print $1 "\t" c "\t" s }'
}

# Prints "stream<TAB>value..." for every packet matching FILTER that has the first FIELD set;
# FIELDS is one tshark field or several joined by '+', each printed as its own column.
field_by_stream() {
  local pcap=$1 l4=$2 filter=$3 fields=$4; shift 4
  local args=() fld
  IFS=+ read -r -a flds <<<"$fields"
  for fld in "${flds[@]}"; do args+=(-e "$fld"); done
  tshark -r "$pcap" "$@" -Y "$filter" -T fields -E separator=/t -E occurrence=a -E aggregator=, \
    -e "$l4.stream" "${args[@]}" 2>>"$WORK/tshark.err" | awk -F'\t' '$2 != ""'
}

# Metadata a DPI engine is expected to extract, as "key<TAB>filter<TAB>fields" per application.
meta_specs() {
  local app=$1 port=$2
  case "$app" in
    HTTP) printf '%s\t%s\t%s\n' \
      http.host "http.request" http.host \
      http.method "http.request" http.request.method \
      http.uri "http.request" http.request.uri \
      http.status "http.response" http.response.code \
      http.server "http.response" http.server ;;
    TLS) printf '%s\t%s\t%s\n' \
      tls.sni "tls.handshake.type==1" tls.handshake.extensions_server_name \
      tls.alpn_offered "tls.handshake.type==1" tls.handshake.extensions_alpn_str \
      tls.alpn "tls.handshake.type==2" tls.handshake.extensions_alpn_str \
      tls.version "tls.handshake.type==2 && tls.handshake.extensions.supported_version" tls.handshake.extensions.supported_version \
      tls.version "tls.handshake.type==2 && !tls.handshake.extensions.supported_version" tls.handshake.version ;;
    DNS) printf '%s\t%s\t%s\n' \
      dns.qname "dns.flags.response==0" dns.qry.name \
      dns.qtype "dns.flags.response==0" dns.qry.type \
      dns.rcode "dns.flags.response==1" dns.flags.rcode \
      dns.a "dns.flags.response==1" dns.a \
      dns.aaaa "dns.flags.response==1" dns.aaaa \
      dns.txt "dns.flags.response==1" dns.txt ;;
    Redis) printf '%s\t%s\t%s\n' \
      redis.command "tcp.dstport==$port && resp.bulk_string.value" resp.bulk_string.value ;;
    PostgreSQL) printf '%s\t%s\t%s\n' \
      pgsql.start "pgsql.frontend==1 && (pgsql.type==\"SSL request\" || pgsql.type==\"Startup message\")" pgsql.type \
      pgsql.param "pgsql.type==\"Startup message\"" pgsql.parameter_name+pgsql.parameter_value ;;
    MySQL) printf '%s\t%s\t%s\n' \
      mysql.version "mysql.version" mysql.version \
      mysql.user "mysql.user" mysql.user \
      mysql.schema "mysql.login_request && mysql.schema" mysql.schema ;;
    SSH) printf '%s\t%s\t%s\n' \
      ssh.client_banner "ssh.protocol && tcp.dstport==$port" ssh.protocol \
      ssh.server_banner "ssh.protocol && tcp.srcport==$port" ssh.protocol ;;
    Memcached) printf '%s\t%s\t%s\n' \
      memcache.command "tcp.dstport==$port && memcache.command" memcache.command ;;
    MQTT) printf '%s\t%s\t%s\n' \
      mqtt.clientid "mqtt.clientid" mqtt.clientid \
      mqtt.topic "mqtt.topic" mqtt.topic ;;
    FTP) printf '%s\t%s\t%s\n' \
      ftp.command "ftp.request.command" ftp.request.command ;;
    SMTP) printf '%s\t%s\t%s\n' \
      smtp.command "smtp.req.command" smtp.req.command \
      smtp.ehlo "smtp.req.command==\"EHLO\"" smtp.req.parameter ;;
  esac
}

# Turns tshark's raw field text into the form a DPI engine reports and prints "key<TAB>value"
# rows: wire codes become names, the Redis command (a hex byte string) becomes its text, and
# the PostgreSQL startup parameters become one key per parameter.
normalize() {
  local key=$1 value=$2 extra=${3:-}
  case "$key" in
    tls.version)
      case "$value" in 0x0304) value=1.3 ;; 0x0303) value=1.2 ;; 0x0302) value=1.1 ;; 0x0301) value=1.0 ;; esac ;;
    dns.qtype)
      case "$value" in 1) value=A ;; 28) value=AAAA ;; 16) value=TXT ;; esac ;;
    dns.rcode)
      case "$value" in 0) value=NOERROR ;; 3) value=NXDOMAIN ;; esac ;;
    redis.command)
      value=$(printf '%s' "${value%%,*}" | xxd -r -p | tr '[:lower:]' '[:upper:]') ;;
    pgsql.start)
      case "$value" in "SSL request") value=sslrequest ;; "Startup message") value=startup ;; esac ;;
    pgsql.param)
      local -a names vals
      local i
      IFS=, read -r -a names <<<"$value"
      IFS=, read -r -a vals <<<"$extra"
      for i in "${!names[@]}"; do printf 'pgsql.%s\t%s\n' "${names[$i]}" "${vals[$i]:-}"; done
      return ;;
  esac
  printf '%s\t%s\n' "$key" "$value"
}

EXP="$WORK/expected.tsv"
META="$WORK/expected-meta.tsv"
printf 'pcap\tl4\tclient\tserver\tapp\tnote\n' >"$EXP"
printf 'pcap\tclient\tserver\tkey\tvalue\n' >"$META"
for pcap in $(cd "$WORK/pcap" && ls *.pcap | sort); do
  name=${pcap%.pcap}
  port=${name##*-}
  read -r app l4 dissector filter <<<"$(spec "$name")"
  f="$WORK/pcap/$pcap"
  decode=(-d "$l4.port==$port,$dissector")
  flows "$f" "$l4" "${decode[@]}" >"$WORK/flows"
  field_by_stream "$f" "$l4" "$filter" frame.number "${decode[@]}" | cut -f1 | sort -u >"$WORK/proto-streams"
  [ -s "$WORK/proto-streams" ] || die "$pcap: tshark finds no $app flow ($(cat "$WORK/tshark.err"))"
  : >"$WORK/meta-rows"
  while IFS=$'\t' read -r key mfilter fields; do
    field_by_stream "$f" "$l4" "$mfilter" "$fields" "${decode[@]}" |
      while IFS=$'\t' read -r stream value extra; do
        normalize "$key" "$value" "$extra" | sed "s/^/$stream\t/"
      done >>"$WORK/meta-rows"
  done < <(meta_specs "$app" "$port")
  sort -u -o "$WORK/meta-rows" "$WORK/meta-rows"
  while IFS=$'\t' read -r stream client server; do
    grep -qx "$stream" "$WORK/proto-streams" || continue
    # The note is a short human summary of what sets the flow apart from its neighbours.
    note=$(awk -F'\t' -v s="$stream" '
      $1 != s { next }
      $2 == "tls.version" { v = "tls" $3 }
      $2 == "tls.sni" { n = "sni=" $3 }
      $2 == "http.host" { n = "host=" $3 }
      $2 == "dns.qname" { n = "qname=" $3 }
      $2 == "dns.qtype" { v = $3 }
      $2 == "pgsql.start" { v = $3 }
      END { printf "%s%s%s", v, (v != "" && n != "" ? " " : ""), n }' "$WORK/meta-rows")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$pcap" "${l4^^}" "$client" "$server" "$app" "$note" >>"$EXP"
    awk -F'\t' -v s="$stream" -v p="$pcap" -v c="$client" -v sv="$server" \
      '$1 == s { print p "\t" c "\t" sv "\t" $2 "\t" $3 }' "$WORK/meta-rows" >>"$META"
  done <"$WORK/flows"
done

# Publish only after every scenario succeeded, replacing the previous generation wholesale.
rm -f "$OUT_DIR"/*.pcap
cp "$WORK"/pcap/*.pcap "$OUT_DIR/"
cp "$EXP" "$META" "$OUT_DIR/"
log "wrote $(ls "$WORK"/pcap/*.pcap | wc -l) captures ($(du -ch "$OUT_DIR"/*.pcap | tail -n 1 | cut -f1)), $(($(wc -l <"$EXP") - 1)) flows, $(($(wc -l <"$META") - 1)) metadata rows"

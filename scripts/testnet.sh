#!/usr/bin/env bash
# Builds and tears down the live test network for `npswitch device`: a client, N nginx servers and
# (optionally) HAProxy, each in its own network namespace, joined to the device's two UDP ports by
# socat-driven TAP devices.
#
#   netns P-client   Pc0 (TAP, switch port 0)  10.90.1.10/24  02:90:01:00:00:0a; VIP 10.90.1.100 on-link
#                    hap0 (veth, --with-haproxy) 10.90.3.10/24
#   netns P-lan      br0 joins Ps0 (TAP, switch port 1), web1..webN (veths) and haproxy (veth)
#   netns P-webI     eth0 10.90.2.(10+I)/24 02:90:02:00:00:<hex(10+I)>; nginx :80, echo server
#                    127.0.0.1:8081; the switch's LOCAL_IP 10.90.2.100 is on-link
#   netns P-haproxy  eth0 10.90.3.100/24 (to the client), eth1 10.90.2.200/24 (to the lan bridge)
#
#   switch port 0: device listens 127.0.0.1:B,   socat (Pc0) listens 127.0.0.1:B+1
#   switch port 1: device listens 127.0.0.1:B+2, socat (Ps0) listens 127.0.0.1:B+3
#
# How the TAPs are made: socat creates each TAP in the root namespace (down, so no packet leaves it
# there), the script moves it into its namespace with `ip link set Pc0 netns P-client` and brings it
# up there. Moving a TAP whose file descriptor socat holds works (checked on Linux 6.x): the fd
# stays attached to the device, only the device's namespace changes. When socat exits the TAP
# disappears with it (not persistent).
#
# Wire constraints for whatever sits on the UDP side (the device):
#   - One Ethernet frame per datagram, no preamble/FCS, at most 1514 bytes (MTU 1500 everywhere):
#     the bridge drops longer frames before they reach a server. TCP MSS is 1460.
#   - The TAPs have no offloads (socat asks for none): every frame socat sends carries complete,
#     correct IPv4/TCP checksums, and large server writes arrive already segmented (the kernel
#     segments the veths' TSO super-packets before the TAP). Frames from the device must carry
#     correct checksums too: the kernel verifies them and silently drops bad ones.
#   - No IPv6 anywhere (disabled in every namespace), so no RS/DAD/MLD noise on the ports. Port 1
#     still sees the lan's broadcasts (ARP among the servers and HAProxy): ARP not for LOCAL_IP
#     is to be ignored, not answered.
#   - nginx closes first under "Connection: close", so its side holds TIME_WAIT: a new SYN from
#     LOCAL_IP that reuses a recent source port is only accepted with a higher sequence number or
#     timestamp, so the device should spread its source ports.
#
# Every process the script starts is recorded in $RUN_BASE/P/pids/<name> as "PID COMM"; `down`
# signals exactly those PIDs (after checking /proc/PID/comm still matches), then SIGKILLs whatever
# still runs inside the P-* namespaces (only commands run there, e.g. by tests), deletes exactly the
# namespaces named P-client, P-lan, P-haproxy, P-web<digits>, and removes the run directory.
set -Eeuo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUN_BASE=${NPSWITCH_TESTNET_RUN:-/run/npswitch-testnet}
WAIT_S=5                     # every wait for a socket, TAP or process is bounded by this
BIG_BIN_BYTES=$((10 << 20))  # /static/big.bin

usage() {
  cat <<EOF
usage: $(basename "$0") up     [--prefix P] [--servers N] [--udp-base B] [--with-haproxy]
                             [--device-config OUT.yaml [--image FIRMWARE.npfw]]
       $(basename "$0") down   [--prefix P]
       $(basename "$0") status [--prefix P]
       $(basename "$0") kill-backend  [--prefix P] --server I   SIGKILL webI's nginx master and workers
       $(basename "$0") start-backend [--prefix P] --server I   start webI's nginx again

Builds (up), shows (status) or removes (down) the live test network for 'npswitch device'.
Defaults: P=nps, N=3, B=20000. Run directory: $RUN_BASE/P (override with NPSWITCH_TESTNET_RUN).
The device listens on 127.0.0.1:B (port 0, clients) and 127.0.0.1:B+2 (port 1, servers) and sends
to 127.0.0.1:B+1 and 127.0.0.1:B+3. --device-config writes the device's config for this network
(switch, ports, servers); with --image it is complete: 'npswitch device --config OUT.yaml' runs it
(image to boot on first start, slots in npswitch-state/ beside OUT.yaml).
EOF
}

die() { echo "testnet: $*" >&2; exit 1; }
say() { echo "testnet: $*"; }

# ---- options ---------------------------------------------------------------------------------

CMD=${1:-}
[[ -n $CMD ]] || { usage >&2; exit 2; }
shift
PREFIX=nps SERVERS=3 UDP_BASE=20000 DEVICE_CONFIG="" IMAGE="" WITH_HAPROXY=0 SERVER=""
while (($#)); do
  case $1 in
    --prefix) PREFIX=${2:?--prefix needs a value}; shift 2 ;;
    --servers) SERVERS=${2:?--servers needs a value}; shift 2 ;;
    --udp-base) UDP_BASE=${2:?--udp-base needs a value}; shift 2 ;;
    --device-config) DEVICE_CONFIG=${2:?--device-config needs a value}; shift 2 ;;
    --image) IMAGE=${2:?--image needs a value}; shift 2 ;;
    --with-haproxy) WITH_HAPROXY=1; shift ;;
    --server) SERVER=${2:?--server needs a value}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done
case $CMD in -h|--help|help) usage; exit 0 ;; esac

# Interface names are PREFIX plus up to 2 characters (15-character limit).
[[ $PREFIX =~ ^[a-z][a-z0-9]{0,9}$ ]] || die "--prefix must be 1-10 characters [a-z0-9], starting with a letter (got '$PREFIX')"
[[ $SERVERS =~ ^[0-9]+$ ]] && ((SERVERS >= 1 && SERVERS <= 50)) || die "--servers must be 1..50 (got '$SERVERS')"
[[ $UDP_BASE =~ ^[0-9]+$ ]] && ((UDP_BASE >= 1024 && UDP_BASE <= 65532)) || die "--udp-base must be 1024..65532 (got '$UDP_BASE')"

RUN=$RUN_BASE/$PREFIX
NS_CLIENT=$PREFIX-client NS_LAN=$PREFIX-lan NS_HAPROXY=$PREFIX-haproxy
TAP_CLIENT=${PREFIX}c0 TAP_SERVERS=${PREFIX}s0
VIP=10.90.1.100 CLIENT_IP=10.90.1.10 CLIENT_MAC=02:90:01:00:00:0a LOCAL_IP=10.90.2.100
HAPROXY_FRONT_IP=10.90.3.100 HAPROXY_CLIENT_IP=10.90.3.10 HAPROXY_LAN_IP=10.90.2.200
ECHO_LISTEN=127.0.0.1:8081

web_ns() { echo "$PREFIX-web$1"; }
web_ip() { echo "10.90.2.$((10 + $1))"; }
web_mac() { printf '02:90:02:00:00:%02x' $((10 + $1)); }

# Our namespaces that exist now, by exact name.
our_namespaces() {
  ip netns list | awk '{print $1}' | grep -E "^$PREFIX-(client|lan|haproxy|web[0-9]+)\$" || true
}

# ---- processes -------------------------------------------------------------------------------

# start_daemon NAME COMM LOG CMD...: runs CMD in its own session (out of the caller's process
# group, so a caller's Ctrl-C or timeout does not half-kill the network) and records its PID.
# setsid and `ip netns exec` both exec in place, so $! is the daemon's own PID.
start_daemon() {
  local name=$1 comm=$2 logf=$3
  shift 3
  setsid "$@" >>"$logf" 2>&1 </dev/null &
  echo "$! $comm" >"$RUN/pids/$name"
}

pid_of() { awk '{print $1}' "$RUN/pids/$1" 2>/dev/null; }

# alive NAME: the recorded process still runs and is still what we started.
alive() {
  local pid comm
  read -r pid comm <"$RUN/pids/$1" 2>/dev/null || return 1
  [[ -r /proc/$pid/comm && $(cat "/proc/$pid/comm" 2>/dev/null) == "$comm" ]]
}

# starting_or_alive NAME: the process just started has not exited (a zombie counts as exited).
# No comm check: until it has exec'd its program it is still this shell, setsid or `ip`.
starting_or_alive() {
  local pid state
  pid=$(pid_of "$1") || return 1
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

# wait_until DESC CMD...: retries CMD every 0.1 s for at most WAIT_S seconds.
wait_until() {
  local desc=$1 i
  shift
  for ((i = 0; i < WAIT_S * 10; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "timed out after ${WAIT_S}s waiting for $desc"
}

# wait_daemon NAME LOG DESC CMD...: like wait_until, but gives up at once, with the log's tail,
# when the daemon NAME has exited.
wait_daemon() {
  local name=$1 logf=$2 desc=$3 i
  shift 3
  for ((i = 0; i < WAIT_S * 10; i++)); do
    if ! starting_or_alive "$name"; then
      echo "testnet: $name exited; last lines of $logf:" >&2
      tail -n 20 "$logf" >&2 || true
      die "$name failed to start"
    fi
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "timed out after ${WAIT_S}s waiting for $desc (see $logf)"
}

children_of() { cat /proc/"$1"/task/*/children 2>/dev/null || true; }

# ---- namespaces and links --------------------------------------------------------------------

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# sysctl_ns NS KEY=VALUE...: sets the keys that exist in this kernel, quietly skips the others.
sysctl_ns() {
  local ns=$1 kv
  shift
  for kv in "$@"; do
    in_ns "$ns" test -e "/proc/sys/$(tr . / <<<"${kv%%=*}")" && in_ns "$ns" sysctl -q -w "$kv" >/dev/null
  done
  return 0
}

make_ns() {
  ip netns add "$1"
  ip -n "$1" link set lo up
  # Also covers devices created in or moved into the namespace later (they take "default").
  sysctl_ns "$1" net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# start_tap NAME TAP LISTEN_PORT DEVICE_PORT NS: socat creates TAP in the root namespace; it is
# moved into NS, left down: the caller configures and raises it. The UDP socket gets 8 MiB buffers
# with SO_RCVBUFFORCE/SO_SNDBUFFORCE (SOL_SOCKET 1, options 33/32; root may exceed rmem_max): with
# the default ~200 KiB, a burst from the device (a window of a 10 MiB download) overflows socat's
# receive queue and the client sees lost segments.
start_tap() {
  local name=$1 tap=$2 listen=$3 device=$4 ns=$5 logf=$RUN/$1.log
  ip link show "$tap" >/dev/null 2>&1 && die "a link named $tap already exists in the root namespace"
  start_daemon "$name" socat "$logf" socat -b 65536 \
    "TUN,tun-type=tap,iff-no-pi,tun-name=$tap" \
    "UDP4-DATAGRAM:127.0.0.1:$device,bind=127.0.0.1:$listen,setsockopt-int=1:33:8388608,setsockopt-int=1:32:8388608"
  wait_daemon "$name" "$logf" "socat to create $tap" ip link show "$tap"
  ip link set "$tap" netns "$ns"
  sysctl_ns "$ns" "net.ipv6.conf.$tap.disable_ipv6=1"
}

# ---- content ---------------------------------------------------------------------------------

# Deterministic bytes: AES-128-CTR keystream of a fixed key over zeros, identical on every run.
make_static() {
  local dir=$RUN/static
  mkdir -p "$dir"
  head -c "$BIG_BIN_BYTES" /dev/zero |
    openssl enc -aes-128-ctr -nosalt -K 6e7073776974636820746573746e6574 -iv 00000000000000000000000000000000 \
      >"$dir/big.bin"
  sha256sum "$dir/big.bin" | awk '{print $1}' >"$RUN/big.bin.sha256"
  cat >"$dir/app.js" <<'EOF'
// npswitch testnet static asset: identical on every server.
export function hello() { return "hello from /static/app.js"; }
EOF
  printf 'body { font-family: sans-serif; }\n' >"$dir/style.css"
  chmod -R a+rX "$dir"
}

write_nginx_conf() {
  local i=$1 dir=$RUN/web$1
  mkdir -p "$dir/www" "$dir/tmp"
  printf 'web%s\n' "$i" >"$dir/www/index.html"
  ln -sfn "$RUN/static" "$dir/www/static"
  chmod -R a+rX "$dir/www"
  chown nobody:nogroup "$dir/tmp"
  cat >"$dir/nginx.conf" <<EOF
# nginx for testnet server web$i (written by scripts/testnet.sh).
daemon off;
user nobody nogroup;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 8192; }
http {
  types { text/html html; text/css css; application/javascript js; application/json json; application/octet-stream bin; }
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  client_max_body_size 256m;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  # The echo server keeps idle upstream connections longer (120 s) than nginx does (30 s), so
  # nginx never sends a POST on a connection the echo server is closing.
  upstream echo { server $ECHO_LISTEN; keepalive 32; keepalive_timeout 30s; }
  server {
    listen 80 default_server backlog=4096;
    root $dir/www;
    add_header X-Backend web$i always;
    location = /api/info {
      default_type application/json;
      return 200 '{"server":"web$i","ip":"$(web_ip "$i")"}\n';
    }
    location /api/echo {
      proxy_pass http://echo;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
}

start_nginx() {
  local i=$1 dir=$RUN/web$1
  start_daemon "nginx-web$i" nginx "$dir/nginx.log" \
    ip netns exec "$(web_ns "$i")" nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf"
  wait_daemon "nginx-web$i" "$dir/error.log" "nginx on web$i:80" \
    in_ns "$(web_ns "$i")" curl -sf -m 1 -o /dev/null "http://127.0.0.1/index.html"
}

start_echo() {
  local i=$1 dir=$RUN/web$1
  start_daemon "echo-web$i" node "$dir/echo.log" \
    ip netns exec "$(web_ns "$i")" node "$SCRIPT_DIR/echo-server.mjs" --name "web$i" --listen "$ECHO_LISTEN"
  wait_daemon "echo-web$i" "$dir/echo.log" "echo server on web$i $ECHO_LISTEN" \
    in_ns "$(web_ns "$i")" curl -sf -m 1 -o /dev/null "http://$ECHO_LISTEN/health"
}

start_haproxy() {
  local dir=$RUN/haproxy i servers=""
  mkdir -p "$dir"
  for ((i = 1; i <= SERVERS; i++)); do
    servers+="  server web$i $(web_ip "$i"):80 check inter 2s"$'\n'
  done
  cat >"$dir/haproxy.cfg" <<EOF
# HAProxy in front of the testnet nginx servers, for side-by-side benchmarks (written by scripts/testnet.sh).
global
  nbthread 1
  maxconn 4096
  pidfile $dir/haproxy.pid
defaults
  mode http
  option http-keep-alive
  maxconn 4096
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-request 10s
  timeout http-keep-alive 30s
frontend web
  bind $HAPROXY_FRONT_IP:80
  default_backend servers
backend servers
  balance roundrobin
$servers
EOF
  haproxy -c -q -f "$dir/haproxy.cfg" || die "haproxy rejects $dir/haproxy.cfg"
  start_daemon haproxy haproxy "$dir/haproxy.log" ip netns exec "$NS_HAPROXY" haproxy -db -f "$dir/haproxy.cfg"
  wait_daemon haproxy "$dir/haproxy.log" "haproxy on $HAPROXY_FRONT_IP:80" \
    in_ns "$NS_CLIENT" curl -sf -m 1 -o /dev/null "http://$HAPROXY_FRONT_IP/index.html"
}

write_device_config() {
  local out=$1 i tmp
  tmp=$(mktemp "$(dirname "$out")/.device.XXXXXX.yaml")
  {
    echo "# The live test network '$PREFIX' (scripts/testnet.sh up --prefix $PREFIX)."
    if [[ -n $IMAGE ]]; then
      echo "name: $PREFIX"
      echo "image: $(realpath "$IMAGE")"
      echo "state_dir: npswitch-state"
    fi
    echo "switch: { vip: $VIP, local_ip: $LOCAL_IP, service_port: 80 }"
    echo "ports:"
    echo "  - { name: client, mac: \"02:00:00:00:00:10\", listen: \"127.0.0.1:$UDP_BASE\", peer: \"127.0.0.1:$((UDP_BASE + 1))\" }"
    echo "  - { name: servers, mac: \"02:00:00:00:00:11\", listen: \"127.0.0.1:$((UDP_BASE + 2))\", peer: \"127.0.0.1:$((UDP_BASE + 3))\" }"
    echo "servers:"
    for ((i = 1; i <= SERVERS; i++)); do
      local group=api
      ((i == 1)) && group=static
      echo "  - { name: web$i, ip: $(web_ip "$i"), mac: \"$(web_mac "$i")\", port: 1, tcp_port: 80, tags: { group: \"$group\" } }"
    done
  } >"$tmp"
  mv -f "$tmp" "$out"
}

# ---- up --------------------------------------------------------------------------------------

UP_DONE=0
up_cleanup() {
  ((UP_DONE)) && return 0
  local f
  echo "testnet: up failed; tearing down what was built" >&2
  for f in "$RUN"/*.log "$RUN"/*/*.log; do
    [[ -s $f ]] && { echo "--- $f (last lines)" >&2; tail -n 10 "$f" >&2; }
  done
  cmd_down >&2 || true
}

cmd_up() {
  local ns
  ((EUID == 0)) || die "must run as root (network namespaces, TAP devices)"
  for tool in ip socat nginx curl openssl node setsid; do
    command -v "$tool" >/dev/null || die "'$tool' not found in PATH"
  done
  ((WITH_HAPROXY)) && { command -v haproxy >/dev/null || die "'haproxy' not found in PATH"; }
  [[ -c /dev/net/tun ]] || die "/dev/net/tun is missing"
  ns=$(our_namespaces | head -n 1)
  [[ -z $ns ]] || die "prefix '$PREFIX' is in use (namespace $ns exists); run '$0 down --prefix $PREFIX' first"
  [[ ! -e $RUN ]] || die "prefix '$PREFIX' is in use ($RUN exists); run '$0 down --prefix $PREFIX' first"
  if [[ -n $DEVICE_CONFIG ]]; then
    [[ -d $(dirname "$DEVICE_CONFIG") ]] || die "--device-config: directory $(dirname "$DEVICE_CONFIG") does not exist"
  fi
  if [[ -n $IMAGE ]]; then
    [[ -n $DEVICE_CONFIG ]] || die "--image goes with --device-config (it names the image the device boots)"
    [[ -f $IMAGE ]] || die "--image: $IMAGE does not exist; build it with 'npx npswitch build'"
  fi

  trap up_cleanup EXIT
  trap 'exit 130' INT TERM
  mkdir -p "$RUN/pids"

  say "namespaces"
  make_ns "$NS_CLIENT"
  make_ns "$NS_LAN"
  for ((i = 1; i <= SERVERS; i++)); do make_ns "$(web_ns "$i")"; done
  # wrk with "Connection: close" opens tens of thousands of connections a second.
  sysctl_ns "$NS_CLIENT" net.ipv4.tcp_tw_reuse=1 "net.ipv4.ip_local_port_range=1024 65535"
  sysctl_ns "$NS_LAN" net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-arptables=0

  say "server lan: bridge br0, web1..web$SERVERS"
  ip -n "$NS_LAN" link add br0 type bridge forward_delay 0 stp_state 0
  ip -n "$NS_LAN" link set br0 address 02:90:02:00:00:fd up
  for ((i = 1; i <= SERVERS; i++)); do
    ns=$(web_ns "$i")
    ip -n "$NS_LAN" link add "web$i" type veth peer name eth0 netns "$ns"
    ip -n "$NS_LAN" link set "web$i" master br0 up
    ip -n "$ns" link set eth0 address "$(web_mac "$i")"
    ip -n "$ns" addr add "$(web_ip "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
  done

  say "TAPs: $TAP_CLIENT (127.0.0.1:$((UDP_BASE + 1)) <-> device 127.0.0.1:$UDP_BASE), $TAP_SERVERS (127.0.0.1:$((UDP_BASE + 3)) <-> device 127.0.0.1:$((UDP_BASE + 2)))"
  start_tap socat-client "$TAP_CLIENT" $((UDP_BASE + 1)) "$UDP_BASE" "$NS_CLIENT"
  ip -n "$NS_CLIENT" link set "$TAP_CLIENT" address "$CLIENT_MAC"
  ip -n "$NS_CLIENT" addr add "$CLIENT_IP/24" dev "$TAP_CLIENT"
  ip -n "$NS_CLIENT" link set "$TAP_CLIENT" up
  start_tap socat-servers "$TAP_SERVERS" $((UDP_BASE + 3)) $((UDP_BASE + 2)) "$NS_LAN"
  ip -n "$NS_LAN" link set "$TAP_SERVERS" address 02:90:02:00:00:fe
  ip -n "$NS_LAN" link set "$TAP_SERVERS" master br0 up

  say "servers: nginx and echo server on web1..web$SERVERS"
  make_static
  for ((i = 1; i <= SERVERS; i++)); do
    write_nginx_conf "$i"
    start_echo "$i"
    start_nginx "$i"
  done

  if ((WITH_HAPROXY)); then
    say "haproxy: $HAPROXY_FRONT_IP:80 -> web1..web$SERVERS"
    make_ns "$NS_HAPROXY"
    sysctl_ns "$NS_HAPROXY" net.ipv4.tcp_tw_reuse=1 "net.ipv4.ip_local_port_range=1024 65535"
    ip -n "$NS_CLIENT" link add hap0 type veth peer name eth0 netns "$NS_HAPROXY"
    ip -n "$NS_CLIENT" addr add "$HAPROXY_CLIENT_IP/24" dev hap0
    ip -n "$NS_CLIENT" link set hap0 up
    ip -n "$NS_HAPROXY" addr add "$HAPROXY_FRONT_IP/24" dev eth0
    ip -n "$NS_HAPROXY" link set eth0 up
    ip -n "$NS_LAN" link add haproxy type veth peer name eth1 netns "$NS_HAPROXY"
    ip -n "$NS_LAN" link set haproxy master br0 up
    ip -n "$NS_HAPROXY" addr add "$HAPROXY_LAN_IP/24" dev eth1
    ip -n "$NS_HAPROXY" link set eth1 up
    start_haproxy
  fi

  # The servers see each other across the bridge: the lan is wired.
  if ((SERVERS > 1)); then
    wait_until "web1 to reach web2 across br0" in_ns "$(web_ns 1)" curl -sf -m 1 -o /dev/null "http://$(web_ip 2)/index.html"
  fi

  if [[ -n $DEVICE_CONFIG ]]; then
    write_device_config "$DEVICE_CONFIG"
    say "device config: $DEVICE_CONFIG"
  fi
  echo "$SERVERS" >"$RUN/servers"
  UP_DONE=1
  say "up: prefix $PREFIX, $SERVERS servers, device ports 127.0.0.1:$UDP_BASE and 127.0.0.1:$((UDP_BASE + 2)), run dir $RUN"
}

# ---- down ------------------------------------------------------------------------------------

cmd_down() {
  local f name pid comm pids=() ns i
  if [[ -d $RUN/pids ]]; then
    for f in "$RUN"/pids/*; do
      [[ -e $f ]] || continue
      name=$(basename "$f")
      read -r pid comm <"$f" || continue
      if alive "$name"; then
        # nginx workers outlive a SIGKILLed master; with SIGTERM the master takes them down, but
        # list them anyway in case it cannot.
        [[ $comm == nginx ]] && pids+=($(children_of "$pid"))
        pids+=("$pid")
        kill -TERM "$pid" 2>/dev/null || true
      fi
    done
    for ((i = 0; i < WAIT_S * 10; i++)); do
      local left=()
      for pid in "${pids[@]}"; do [[ -e /proc/$pid ]] && left+=("$pid"); done
      ((${#left[@]})) || break
      sleep 0.1
    done
    for pid in "${pids[@]}"; do
      [[ -e /proc/$pid ]] && { say "PID $pid ignored SIGTERM; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; }
    done
  fi
  for ns in $(our_namespaces); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do
      say "killing PID $pid ($(cat /proc/"$pid"/comm 2>/dev/null)) still running in $ns"
      kill -KILL "$pid" 2>/dev/null || true
    done
  done
  for ns in $(our_namespaces); do
    for ((i = 0; i < WAIT_S * 10; i++)); do
      [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] && break
      sleep 0.1
    done
    ip netns del "$ns"
  done
  # Non-persistent TAPs vanish with socat; one left in the root namespace means a socat we did not
  # record (the run dir was lost), so say so rather than guess which process holds it.
  for ns in "$TAP_CLIENT" "$TAP_SERVERS"; do
    ip link show "$ns" >/dev/null 2>&1 && echo "testnet: warning: $ns still exists in the root namespace (held by an unrecorded socat?)" >&2
  done
  rm -rf "$RUN"
  say "down: prefix $PREFIX"
}

# ---- status ----------------------------------------------------------------------------------

cmd_status() {
  local f name ns rc=0
  [[ -d $RUN ]] || { say "prefix $PREFIX: no run directory ($RUN)"; rc=1; }
  echo "namespaces:"
  for ns in $(our_namespaces | sort); do
    echo "  $ns"
    ip -n "$ns" -br addr show | grep -v '^lo ' | sed 's/^/    /'
  done
  if [[ -d $RUN/pids ]]; then
    echo "processes:"
    for f in "$RUN"/pids/*; do
      [[ -e $f ]] || continue
      name=$(basename "$f")
      if alive "$name"; then
        printf '  %-16s %s running\n' "$name" "$(cat "$f")"
      else
        printf '  %-16s %s DEAD\n' "$name" "$(cat "$f")"
        rc=1
      fi
    done
    [[ -e $RUN/big.bin.sha256 ]] && echo "/static/big.bin sha256: $(cat "$RUN/big.bin.sha256")"
  fi
  return $rc
}

# ---- one backend -----------------------------------------------------------------------------

need_server() {
  [[ $SERVER =~ ^[0-9]+$ ]] || die "--server I is required"
  [[ -f $RUN/web$SERVER/nginx.conf ]] || die "no server web$SERVER in prefix $PREFIX"
}

# SIGKILL, not SIGTERM: the backend dies the way a crashed server does. The master goes first so
# it cannot respawn the workers, then the workers (which a dead master leaves running). The kernel
# then closes their sockets (checked): an idle keep-alive connection gets a FIN; a response being
# sent stops short (what was already in the socket buffer arrives, then a FIN, no RST); a
# connection with unread request bytes gets a RST; anything sent afterwards gets a RST, and new
# SYNs are refused with a RST.
cmd_kill_backend() {
  need_server
  local name=nginx-web$SERVER master workers
  alive "$name" || die "web$SERVER's nginx is not running"
  master=$(pid_of "$name")
  workers=$(children_of "$master")
  kill -KILL "$master" $workers
  for pid in $master $workers; do
    wait_until "PID $pid to exit" test ! -e "/proc/$pid"
  done
  say "killed web$SERVER nginx: master $master, workers" $workers
}

cmd_start_backend() {
  need_server
  alive "nginx-web$SERVER" && die "web$SERVER's nginx is already running"
  start_nginx "$SERVER"
  say "started web$SERVER nginx (master $(pid_of "nginx-web$SERVER"))"
}

case $CMD in
  up) cmd_up ;;
  down) ((EUID == 0)) || die "must run as root"; cmd_down ;;
  status) cmd_status ;;
  kill-backend) cmd_kill_backend ;;
  start-backend) cmd_start_backend ;;
  *) usage >&2; die "unknown command '$CMD'" ;;
esac

#!/usr/bin/env bash
# The reference for `carepost bench delivery`: Postfix relaying to a sink, without and with
# OpenDKIM (RSA-2048) signing, measured on this machine with Postfix's own smtp-source and
# smtp-sink. Prints messages/s end to end and CPU ms per message of Postfix (+ OpenDKIM).
#
# It reconfigures the machine's Postfix (a bench machine's, not a mail server's): run it
# as root on a machine where Postfix serves nothing. Needs: postfix, opendkim,
# opendkim-tools (apt-get install postfix opendkim opendkim-tools).
#
#   bench/postfix-reference.sh [MESSAGES] [SESSIONS] [SIZE]
set -euo pipefail
messages=${1:-5000}
sessions=${2:-16}
size=${3:-5000}
# Not under /tmp: OpenDKIM refuses files whose directories others can write.
work=$(mktemp -d -p /var/lib carepost-bench.XXXXXX)
trap 'postfix stop >/dev/null 2>&1 || true; kill $(cat "$work"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT

ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }   # user nice system irq softirq
proc_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

configure_postfix() { # $1: yes to sign with OpenDKIM
  if [ ! -s /etc/postfix/main.cf ] || ! grep -q '^setgid_group = postdrop' /etc/postfix/main.cf; then
    cat >/etc/postfix/main.cf <<'CF'
compatibility_level = 3.6
myhostname = bench.carepost.test
setgid_group = postdrop
mail_owner = postfix
queue_directory = /var/spool/postfix
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
data_directory = /var/lib/postfix
sendmail_path = /usr/sbin/sendmail
newaliases_path = /usr/bin/newaliases
mailq_path = /usr/bin/mailq
alias_maps =
alias_database =
CF
  fi
  postconf -e "inet_interfaces = 127.0.0.1" "inet_protocols = ipv4" "mydestination =" \
    "relayhost = [127.0.0.1]:2526" "smtp_tls_security_level = none" \
    "default_process_limit = 100" "smtpd_client_connection_count_limit = 0" \
    "smtpd_client_message_rate_limit = 0" \
    "mynetworks = 127.0.0.0/8" "smtpd_relay_restrictions = permit_mynetworks, reject"
  postconf -M "2525/inet=2525 inet n - n - - smtpd"
  if [ "$1" = yes ]; then
    postconf -e "smtpd_milters = inet:127.0.0.1:8891" "milter_default_action = tempfail"
  else
    postconf -e "smtpd_milters ="
  fi
}

start_opendkim() {
  mkdir -p "$work/dkim"
  opendkim-genkey -b 2048 -d clinic.test -s bench -D "$work/dkim" >/dev/null
  chmod 700 "$work/dkim"; chmod 600 "$work/dkim/bench.private"
  cat >"$work/opendkim.conf" <<CONF
Syslog no
Domain clinic.test
Selector bench
KeyFile $work/dkim/bench.private
Socket inet:8891@127.0.0.1
Canonicalization relaxed/relaxed
Mode s
PidFile $work/opendkim.pid
CONF
  opendkim -x "$work/opendkim.conf"
  for _ in $(seq 1 50); do (exec 3<>/dev/tcp/127.0.0.1/8891) 2>/dev/null && return; sleep 0.1; done
  echo "opendkim did not start" >&2; exit 1
}

run_case() { # $1: label, $2: sign yes/no
  rm -rf "$work/sink"; mkdir -p "$work/sink"
  chmod 755 "$work"; chown postfix "$work/sink"
  smtp-sink -u postfix -d "$work/sink/%M." 127.0.0.1:2526 256 &
  echo $! >"$work/sink.pid"
  configure_postfix "$2"
  [ "$2" = yes ] && start_opendkim
  postfix start >"$work/postfix.log" 2>&1 || { cat "$work/postfix.log" >&2; exit 1; }
  sleep 1
  local before after sink_before sink_after start end
  sink_before=$(proc_ticks "$(cat "$work/sink.pid")")
  before=$(ticks); start=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$work/source.time" \
    smtp-source -s "$sessions" -m "$messages" -l "$size" -f care@clinic.test -t p@sink.test 127.0.0.1:2525
  until [ "$(find "$work/sink" -type f | wc -l)" -ge "$messages" ]; do sleep 0.05; done
  end=$(date +%s.%N); after=$(ticks)
  sink_after=$(proc_ticks "$(cat "$work/sink.pid")")
  local source_ticks signed
  signed=$({ grep -l -s "^DKIM-Signature:" "$work"/sink/* || true; } | wc -l)
  source_ticks=$(awk '{printf "%d", ($1+$2)*100}' "$work/source.time")
  awk -v l="$1" -v n="$messages" -v s="$start" -v e="$end" -v t=$((after - before)) \
      -v o=$((source_ticks + sink_after - sink_before)) -v sg="$signed" 'BEGIN {
    printf "%s: %d messages of %d bytes: %.0f messages/s, %.2f ms CPU per message (Postfix%s), %d DKIM-signed\n",
      l, n, '"$size"', n / (e - s), (t - o) * 10 / n, (l ~ /DKIM/ ? " + OpenDKIM" : ""), sg }'
  postfix stop >/dev/null 2>&1 || true
  kill "$(cat "$work/sink.pid")" 2>/dev/null || true
  [ -f "$work/opendkim.pid" ] && kill "$(cat "$work/opendkim.pid")" 2>/dev/null && rm -f "$work/opendkim.pid"
  sleep 1
}

run_case "postfix relay" no
run_case "postfix relay with OpenDKIM" yes

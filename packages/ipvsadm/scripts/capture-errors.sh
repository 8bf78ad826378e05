#!/bin/sh
# Runs inside the VM: ipvsadm 1.31's stderr and exit status for wrong command lines
# (one per line of the here-document), as JSON lines {args, code, stderr}.
echo
modprobe ip_vs
while IFS= read -r line; do
  [ -z "$line" ] && continue
  # shellcheck disable=SC2086
  ipvsadm $line > /tmp/o 2> /tmp/e; code=$?
  printf '### %s\t%s\t%s\n' "$line" "$code" "$(base64 -w0 /tmp/e)"
done <<'LINES'
-n -L
-L --foo
-A
-A -t 10.0.0.1
-A -t 10.0.0.1:80 -s rr -A
-A -t 10.0.0.1:80 -r 10.0.0.2
-A -u 10.0.0.1:0
-A -t 10.0.0.1:80 -o
-A -t 300.0.0.1:80
-A -t 10.0.0.1:99999
-A -t 10.0.0.1:80 -p abc
-A -t 10.0.0.1:80 -p 0
-A -t 10.0.0.1:80 -M 255.255.0.0 -s rr -s wlc
-A -f 0
-A -f abc
-A -t 10.0.0.1:80 -b flag-9
-A -t 10.0.0.1:80 -s rr -b sh-port
-A -t [2001:db8::1]:80 -M 200
-a -t 10.0.0.1:80
-a -t 10.0.0.1:80 -r 10.0.0.2 -w 70000
-a -t 10.0.0.1:80 -r 10.0.0.2 -x -1
-a -t 10.0.0.1:80 -r [2001:db8::2] -m
-a -t 10.0.0.1:80 -r 10.0.0.2 -m --tun-type gue
-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue
-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gre --tun-remcsum
-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 6080 --tun-csum --tun-remcsum
-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type vxlan
-L -c --stats
-L --timeout --persistent-conn
-L -c -t 10.0.0.1:80
-L -s rr
--set 1 2
--set 1 2 x
-L extra
--start-daemon sideways
--stop-daemon nope
-C -n
-6 -A
-A -t 10.0.0.1:80 -6
-D -t 10.0.0.1:80 -n
-Z -t 10.0.0.1:80 -w 1
-A -t 10.0.0.1:80 -s
-a -t 10.0.0.1:80 -r 10.0.0.2 -m -g
--start-daemon master --syncid 300
--start-daemon master --mcast-group 10.0.0.1
--start-daemon master --mcast-port 0
LINES

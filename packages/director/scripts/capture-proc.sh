#!/bin/sh
# Captures test/fixtures/proc-net-ip_vs.txt from the real kernel (run inside tools/vm):
#   tools/vm "sh packages/director/scripts/capture-proc.sh > packages/director/test/fixtures/proc-net-ip_vs.txt"
# The VM overlay is thrown away, so print to stdout and redirect on the host side instead:
#   tools/vm "sh packages/director/scripts/capture-proc.sh" | tr -d "\r" > test/fixtures/proc-net-ip_vs.txt
set -e
ip netns add lvscap
ip netns exec lvscap sh -c '
ip link set lo up
ipvsadm -A -u 10.0.0.1:53 -s rr -o
ipvsadm -A -t 10.0.0.2:80 -s wlc -p 300 -M 255.255.255.0
ipvsadm -a -t 10.0.0.2:80 -r 10.1.0.1:80 -g -w 5
ipvsadm -a -t 10.0.0.2:80 -r 10.1.0.2:8080 -m -w 0
ipvsadm -A -f 7 -s sh -p 30
ipvsadm -a -f 7 -r 10.1.0.3:0 -i -w 2
ipvsadm -A -t [2001:db8::1]:443 -s mh
ipvsadm -a -t [2001:db8::1]:443 -r [2001:db8::10]:8443 -g -w 2
echo ===PROC
cat /proc/net/ip_vs
echo ===SAVE
ipvsadm -Sn
'
ip netns del lvscap

#!/bin/sh
# Runs inside the VM: builds a table with traffic, then for each ipvsadm -L/-S variant records
# the netlink bytes (strace) and ipvsadm's exact stdout from the same run.
echo
modprobe ip_vs; for m in ip_vs_rr ip_vs_wlc ip_vs_sh ip_vs_mh ip_vs_lc; do modprobe $m; done
ip link add dummy0 type dummy; ip link set dummy0 up; ip link set lo up
ip addr add 10.0.0.254/24 dev dummy0; ip -6 addr add 2001:db8::fe/64 dev dummy0 nodad
ipvsadm -A -t 10.0.0.1:80 -s rr
ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.254:8080 -m
ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 3 -x 100 -y 10
ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.3:80 -g -w 0
ipvsadm -A -t 10.0.0.1:22 -s wlc
ipvsadm -A -u 10.0.0.5:53 -s wlc -p 600 -M 255.255.255.0 -o
ipvsadm -a -u 10.0.0.5:53 -r 10.0.0.55:5353 -m -w 2
ipvsadm -A -t [2001:db8::1]:443 -s sh -b sh-port -p 30 -M 64
ipvsadm -a -t [2001:db8::1]:443 -r [2001:db8::2]:443 -m
ipvsadm -A -f 7 -s mh -b mh-fallback
ipvsadm -a -f 7 -r 10.0.0.6 -i --tun-type gue --tun-port 6080 --tun-csum
ipvsadm -a -f 7 -r 10.0.0.7 -i --tun-type gre --tun-nocsum
ipvsadm -a -f 7 -r 10.0.0.8 -i -w 4
ipvsadm -A -f 9 -6 -s rr
ipvsadm -a -f 9 -6 -r [2001:db8::9] -i
ipvsadm -A --sctp-service 10.0.0.10:3868 -s lc
ipvsadm --set 900 120 300
ipvsadm --start-daemon master --mcast-interface dummy0 --syncid 3
node packages/ipvs/scripts/traffic.mjs > /tmp/traffic.log 2>&1 &
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do grep -q done /tmp/traffic.log && break; sleep 1; done
sleep 3
for v in "-Ln" "-L" "-Ln --stats" "-Ln --rate" "-Ln --thresholds" "-Ln --persistent-conn" "-Ln --tun-info" "-Ln --stats --exact" "-Ln --rate --exact" "-Ln --nosort" "-Sn" "-S" "-Ln -t 10.0.0.1:80" "-Ln -f 7 --stats" "-L --timeout" "-L --daemon" "-Lnc" "-Lc --persistent-conn"; do
  echo "### $v"
  cat /proc/net/ip_vs_conn > /tmp/conn.txt
  strace -o /tmp/s.txt -e trace=sendmsg,recvmsg -e write=all -e read=all -s 0 ipvsadm $v > /tmp/o.txt
  cat /proc/net/ip_vs_conn > /tmp/conn2.txt
  cat /tmp/s.txt
  echo "### stdout $(base64 -w0 /tmp/o.txt)"
  cmp -s /tmp/conn.txt /tmp/conn2.txt && echo "### proc $(base64 -w0 /tmp/conn.txt)"
  echo "### end"
done

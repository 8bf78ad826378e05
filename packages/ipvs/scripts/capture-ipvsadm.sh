#!/bin/sh
# Runs inside the VM (kernel IPVS): records the netlink bytes ipvsadm 1.31 sends and the kernel
# replies for a set of commands. Output: "### name" headers followed by strace hex dumps.
# tools: modprobe, ipvsadm, strace. Usage (in the VM): sh scripts/capture-ipvsadm.sh
echo; modprobe ip_vs
for m in ip_vs_rr ip_vs_wlc ip_vs_sh ip_vs_mh ip_vs_sed ip_vs_lc; do modprobe $m; done
ip link add dummy0 type dummy 2>/dev/null; ip link set dummy0 up
ip addr add 10.0.0.254/24 dev dummy0; ip -6 addr add 2001:db8::fe/64 dev dummy0 nodad
cap() {
  name="$1"; shift
  echo "### $name"
  strace -e trace=sendmsg,recvmsg -e write=all -e read=all -s 0 "$@" 2>&1 >/dev/null
  echo "### end"
}
cap new_service_tcp ipvsadm -A -t 10.0.0.1:80 -s rr
cap new_service_udp6_persistent ipvsadm -A -u [2001:db8::1]:53 -s wlc -p 600 -M 64
cap new_service_fwmark_flags ipvsadm -A -f 7 -s sh -b sh-fallback,sh-port -p 300 -M 255.255.255.0
cap new_service_ops ipvsadm -A -u 10.0.0.5:0 -s rr -p -o
cap new_dest_masq ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 3 -x 100 -y 10
cap new_dest_route ipvsadm -a -t 10.0.0.1:80 -r 10.0.0.3 -g -w 0
cap new_dest_gue ipvsadm -a -f 7 -r 10.0.0.4 -i --tun-type gue --tun-port 6080 --tun-remcsum
cap new_dest6 ipvsadm -a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -m
cap set_service ipvsadm -E -t 10.0.0.1:80 -s wlc -p 120
cap set_dest ipvsadm -e -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 5
cap set_config ipvsadm --set 900 120 300
cap get_config ipvsadm -L --timeout
cap new_daemon ipvsadm --start-daemon master --mcast-interface dummy0 --syncid 5 --sync-maxlen 1400 --mcast-group 224.0.0.81 --mcast-port 8848 --mcast-ttl 2
cap get_daemon ipvsadm -L --daemon
cap del_daemon ipvsadm --stop-daemon master
cap dump_all ipvsadm -Sn
cap get_service ipvsadm -Ln -t 10.0.0.1:80
cap zero_service ipvsadm -Z -t 10.0.0.1:80
cap zero_all ipvsadm -Z
cap del_dest ipvsadm -d -t 10.0.0.1:80 -r 10.0.0.3
cap del_service ipvsadm -D -t 10.0.0.1:80
cap err_exists ipvsadm -A -u [2001:db8::1]:53
cap err_no_service ipvsadm -D -t 10.9.9.9:80
cap err_no_sched ipvsadm -A -t 10.0.0.9:80 -s nosuch
cap flush ipvsadm -C

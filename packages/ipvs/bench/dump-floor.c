// The kernel's own time for a table read: one GET_DEST dump per service, as ipvsadm and
// @lvs/ipvs send them, from C with no decoding beyond netlink framing, on T threads (a netlink
// socket each). What no client can go below. Built and run by ipvs.bench.mjs (cc -O2 -pthread):
//   dump-floor NETNS SERVICES THREADS [RECV_BYTES]
// (services 10.100.s>>8.s&255:80 TCP, as the bench makes). RECV_BYTES (default 65536) is each
// recv's buffer: the kernel sizes a dump's parts to the largest read it has seen on the socket
// (netlink_dump, max_recvmsg_len, at most 32 KiB), so it decides what each part costs it.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>
#include <linux/netlink.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int family, services, threads, recv_bytes = 1 << 16;

static int put_attr(char *at, int type, const void *data, int len) {
  struct nlattr *a = (struct nlattr *)at;
  a->nla_type = type;
  a->nla_len = NLA_HDRLEN + len;
  memcpy(at + NLA_HDRLEN, data, len);
  return NLA_ALIGN(a->nla_len);
}

static int ipvs_family(int fd) {
  char req[64] = {0}, reply[8192];
  struct nlmsghdr *n = (struct nlmsghdr *)req;
  struct genlmsghdr *g = NLMSG_DATA(n);
  n->nlmsg_type = GENL_ID_CTRL;
  n->nlmsg_flags = NLM_F_REQUEST;
  g->cmd = CTRL_CMD_GETFAMILY;
  g->version = 1;
  int len = NLMSG_HDRLEN + GENL_HDRLEN;
  len += put_attr(req + len, CTRL_ATTR_FAMILY_NAME, IPVS_GENL_NAME, sizeof IPVS_GENL_NAME);
  n->nlmsg_len = len;
  if (send(fd, req, len, 0) < 0 || recv(fd, reply, sizeof reply, 0) < 0) return -1;
  struct nlmsghdr *m = (struct nlmsghdr *)reply;
  if (m->nlmsg_type != GENL_ID_CTRL) return -1;
  char *at = (char *)NLMSG_DATA(m) + GENL_HDRLEN, *end = reply + m->nlmsg_len;
  while (at + NLA_HDRLEN <= end) {
    struct nlattr *a = (struct nlattr *)at;
    if (a->nla_type == CTRL_ATTR_FAMILY_ID) return *(unsigned short *)(at + NLA_HDRLEN);
    at += NLA_ALIGN(a->nla_len);
  }
  return -1;
}

static void *dump_share(void *arg) {
  long t = (long)arg, parts = 0;
  int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
  char *buf = malloc(1 << 16);
  for (int s = t; s < services; s += threads) {
    char req[128] = {0};
    struct nlmsghdr *n = (struct nlmsghdr *)req;
    struct genlmsghdr *g = NLMSG_DATA(n);
    n->nlmsg_type = family;
    n->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    n->nlmsg_seq = s + 1;
    g->cmd = IPVS_CMD_GET_DEST;
    g->version = IPVS_GENL_VERSION;
    int nest = NLMSG_HDRLEN + GENL_HDRLEN, len = nest + NLA_HDRLEN;
    unsigned short af = AF_INET, protocol = IPPROTO_TCP, port = htons(80);
    unsigned char addr[16] = {10, 100, (unsigned char)(s >> 8), (unsigned char)(s & 255)};
    len += put_attr(req + len, IPVS_SVC_ATTR_AF, &af, 2);
    len += put_attr(req + len, IPVS_SVC_ATTR_PROTOCOL, &protocol, 2);
    len += put_attr(req + len, IPVS_SVC_ATTR_ADDR, addr, 16);
    len += put_attr(req + len, IPVS_SVC_ATTR_PORT, &port, 2);
    ((struct nlattr *)(req + nest))->nla_type = NLA_F_NESTED | IPVS_CMD_ATTR_SERVICE;
    ((struct nlattr *)(req + nest))->nla_len = len - nest;
    n->nlmsg_len = len;
    if (send(fd, req, len, 0) < 0) {
      perror("send");
      exit(1);
    }
    for (int done = 0; !done;) {
      int got = recv(fd, buf, recv_bytes, 0);
      if (got < 0) {
        perror("recv");
        exit(1);
      }
      for (struct nlmsghdr *m = (struct nlmsghdr *)buf; NLMSG_OK(m, got); m = NLMSG_NEXT(m, got)) {
        parts++;
        if (m->nlmsg_type == NLMSG_ERROR) {
          fprintf(stderr, "dump-floor: service %d: errno %d\n", s, -*(int *)NLMSG_DATA(m));
          exit(1);
        }
        if (m->nlmsg_type == NLMSG_DONE) done = 1;
      }
    }
  }
  free(buf);
  close(fd);
  return (void *)parts;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: dump-floor NETNS SERVICES THREADS [RECV_BYTES]\n");
    return 2;
  }
  char path[256];
  snprintf(path, sizeof path, "/var/run/netns/%s", argv[1]);
  int ns = open(path, O_RDONLY);
  if (ns < 0 || setns(ns, CLONE_NEWNET) < 0) {
    perror("setns");
    return 1;
  }
  services = atoi(argv[2]);
  threads = atoi(argv[3]);
  if (threads < 1 || threads > 16) return 2;
  if (argc == 5) recv_bytes = atoi(argv[4]);
  if (recv_bytes < 4096 || recv_bytes > (1 << 16)) return 2;
  int fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
  family = ipvs_family(fd);
  if (family < 0) {
    fprintf(stderr, "dump-floor: no IPVS generic netlink family\n");
    return 1;
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pthread_t th[16];
  long parts = 0;
  for (long t = 0; t < threads; t++) pthread_create(&th[t], NULL, dump_share, (void *)t);
  for (int t = 0; t < threads; t++) {
    void *r;
    pthread_join(th[t], &r);
    parts += (long)r;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  printf("%.1f %ld\n", (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6, parts);
  return 0;
}

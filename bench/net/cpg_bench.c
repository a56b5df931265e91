/* cpg_bench: the same measurements as bench_net, against Corosync's CPG (libcpg), so the two can
 * be compared on one machine. Built and run by corosync_compare.sh; not part of the CMake build
 * (libcpg-dev is only installed for the comparison).
 *   cpg_bench throughput PER_NODE SIZE NODES   every node runs one; prints msgs/s seen here
 *   cpg_bench latency COUNT SIZE               one node; prints p50 and p99 in microseconds */
#include <corosync/cpg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long delivered, own_delivered, members;
static unsigned int my_nodeid;
static double last_delivery;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid,
                       void *msg, size_t len) {
  (void)h; (void)g; (void)pid; (void)msg; (void)len;
  ++delivered;
  last_delivery = now_s();
  if (nodeid == my_nodeid && pid == (uint32_t)getpid()) ++own_delivered;
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *m, size_t n,
                       const struct cpg_address *l, size_t nl, const struct cpg_address *j, size_t nj) {
  (void)h; (void)g; (void)m; (void)l; (void)nl; (void)j; (void)nj;
  members = (long)n;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  cpg_callbacks_t cb = {on_deliver, on_confchg};
  cpg_handle_t h;
  if (cpg_initialize(&h, &cb) != CS_OK) { fprintf(stderr, "cpg_initialize failed\n"); return 1; }
  cpg_local_get(h, &my_nodeid);
  struct cpg_name group;
  strcpy(group.value, "bench");
  group.length = 5;
  if (cpg_join(h, &group) != CS_OK) { fprintf(stderr, "cpg_join failed\n"); return 1; }
  const long count = atol(argv[2]);
  const size_t size = (size_t)atol(argv[3]);
  const long nodes = argc > 4 ? atol(argv[4]) : 1;
  char *payload = calloc(1, size);
  struct iovec iov = {payload, size};
  while (members < nodes) cpg_dispatch(h, CS_DISPATCH_ONE_NONBLOCKING), usleep(1000);
  /* Every client waits for all to join before sending, so all bench messages are counted. */
  if (strcmp(argv[1], "throughput") == 0) {
    const double start = now_s();
    long sent = 0;
    while (delivered < count * nodes) {
      if (sent < count && sent - own_delivered < 500 &&
          cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1) == CS_OK) {
        ++sent;
        continue;
      }
      cpg_dispatch(h, CS_DISPATCH_ALL);
      if (sent >= count || sent - own_delivered >= 500) usleep(50);
    }
    printf("%.0f\n", (double)(count * nodes) / (last_delivery - start));
  } else {
    double *lat = calloc((size_t)count, sizeof(double));
    for (long i = 0; i < count; ++i) {
      const double t0 = now_s();
      while (cpg_mcast_joined(h, CPG_TYPE_AGREED, &iov, 1) != CS_OK) cpg_dispatch(h, CS_DISPATCH_ALL);
      while (own_delivered <= i) cpg_dispatch(h, CS_DISPATCH_ONE);
      lat[i] = (now_s() - t0) * 1e6;
    }
    qsort(lat, (size_t)count, sizeof(double), cmp);
    printf("%.0f %.0f\n", lat[count / 2], lat[count * 99 / 100]);
  }
  cpg_finalize(h);
  return 0;
}

/* The C `ei' peer of the messaging benchmark (bench_messaging): connects to
 * a BEAM node running bench_msg:serve() and measures one-way small messages
 * to its `sink' and round trips to its `echo'.
 *
 * usage: bench_ei NODE COOKIE SMALL_COUNT PINGS
 * prints: "oneway <count> <microseconds>" and "pingpong <p50_us> <p99_us>"
 */
#include <ei.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp_ll(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Waits for the next message (answering ticks); its payload is in `buf'. */
static int next_message(int fd, ei_x_buff *buf) {
    erlang_msg msg;
    for (;;) {
        buf->index = 0;
        int got = ei_xreceive_msg(fd, &msg, buf);
        if (got == ERL_TICK) continue;
        if (got == ERL_ERROR) return -1;
        return 0;
    }
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s NODE COOKIE SMALL_COUNT PINGS\n", argv[0]);
        return 2;
    }
    const char *node = argv[1], *cookie = argv[2];
    long count = atol(argv[3]), pings = atol(argv[4]);
    if (count < 1 || pings < 1) return 2;
    ei_init();
    ei_cnode ec;
    char name[64];
    snprintf(name, sizeof name, "bench_ei_%d", (int)getpid());
    if (ei_connect_init(&ec, name, cookie, 0) < 0) { perror("ei_connect_init"); return 1; }
    int fd = ei_connect(&ec, (char *)node);
    if (fd < 0) { fprintf(stderr, "ei_connect %s failed: %d\n", node, fd); return 1; }
    erlang_pid *self = ei_self(&ec);

    /* One-way: `count' times {msg, 1}, then {done, Self}, wait {sunk, N}. */
    ei_x_buff small, out, in;
    ei_x_new_with_version(&small);
    ei_x_encode_tuple_header(&small, 2);
    ei_x_encode_atom(&small, "msg");
    ei_x_encode_long(&small, 1);
    ei_x_new(&in);
    long long t0 = now_ns();
    for (long i = 0; i < count; i++) {
        if (ei_reg_send(&ec, fd, "sink", small.buff, small.index) < 0) { fprintf(stderr, "send failed\n"); return 1; }
    }
    ei_x_new_with_version(&out);
    ei_x_encode_tuple_header(&out, 2);
    ei_x_encode_atom(&out, "done");
    ei_x_encode_pid(&out, self);
    ei_reg_send(&ec, fd, "sink", out.buff, out.index);
    if (next_message(fd, &in) < 0) { fprintf(stderr, "no sunk reply\n"); return 1; }
    long long t1 = now_ns();
    int index = 0, version, arity;
    long sunk = -1;
    char atom[MAXATOMLEN];
    ei_decode_version(in.buff, &index, &version);
    ei_decode_tuple_header(in.buff, &index, &arity);
    ei_decode_atom(in.buff, &index, atom);
    ei_decode_long(in.buff, &index, &sunk);
    printf("oneway %ld %lld\n", sunk, (t1 - t0) / 1000);

    /* Ping-pong: {Self, {pong, I}} to echo, wait for {pong, I}. */
    long long *rtts = malloc(sizeof(long long) * (size_t)pings);
    if (!rtts) return 1;
    for (long i = 0; i < pings; i++) {
        out.index = 0;
        ei_x_encode_version(&out);
        ei_x_encode_tuple_header(&out, 2);
        ei_x_encode_pid(&out, self);
        ei_x_encode_tuple_header(&out, 2);
        ei_x_encode_atom(&out, "pong");
        ei_x_encode_long(&out, i);
        long long s = now_ns();
        ei_reg_send(&ec, fd, "echo", out.buff, out.index);
        if (next_message(fd, &in) < 0) { fprintf(stderr, "no pong\n"); return 1; }
        rtts[i] = (now_ns() - s) / 1000;
    }
    qsort(rtts, (size_t)pings, sizeof(long long), cmp_ll);
    long p50 = pings / 2 > 0 ? pings / 2 - 1 : 0, p99 = (pings * 99) / 100 > 0 ? (pings * 99) / 100 - 1 : 0;
    printf("pingpong %lld %lld\n", rtts[p50], rtts[p99]);
    fflush(stdout);
    return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* An open-loop, fixed-rate Redis client for tests/bench/colocation:
 *
 *   bench-redis-client -p PORT [-r REQ_PER_S] [-d SECONDS] [-c get|ping]
 *
 * Request i is due at start + i/rate whatever happened to the earlier ones
 * (open loop), and its latency is measured from that due time, not from
 * when it was actually written: a client that waits for slow replies before
 * sending more (closed loop) hides the very stalls we want to see
 * ("coordinated omission"). All requests go over one connection; Redis
 * answers a connection's requests in order, so the k-th reply belongs to
 * the k-th request and no request ids are needed.
 *
 * Prints one line:
 *   requests=N answered=M lost=L p50_us=X p99_us=Y p999_us=Z max_us=W
 * Requests still unanswered GRACE_SEC after the last one was due are lost;
 * they count as slower than every answered one, so a percentile that falls
 * among them is printed as "inf". Exit 0 on a completed run, 1 on errors. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NSEC_PER_SEC UINT64_C(1000000000)
/* How long after the last due time replies are still waited for. */
#define GRACE_SEC 1
/* How long to keep trying to connect while the server starts up. */
#define CONNECT_TIMEOUT_SEC 5
/* Room for the replies of many requests in one read (a GET reply of our
 * 16-byte value is 23 bytes). */
#define INBUF_SIZE (64 * 1024)
/* The highest rate accepted: beyond it the client itself is what is timed. */
#define MAX_RATE 200000

static const char KEY[] = "nodeqos-bench-key";
static const char VALUE[] = "0123456789abcdef";

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * NSEC_PER_SEC + (uint64_t) ts.tv_nsec;
}

static int connect_loopback(int port) {
        struct sockaddr_in sa = {
                .sin_family = AF_INET,
                .sin_port = htons((uint16_t) port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
        uint64_t deadline = now_ns() + CONNECT_TIMEOUT_SEC * NSEC_PER_SEC;
        int one = 1;

        for (;;) {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

                if (fd < 0)
                        return -errno;
                if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
                        /* Each request is one small write: without this,
                         * Nagle would hold it back behind an unacked one. */
                        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                        return fd;
                }
                int r = -errno;
                close(fd);
                if (r != -ECONNREFUSED || now_ns() > deadline)
                        return r;
                usleep(20000);
        }
}

/* Length of the first complete RESP reply in buf, 0 if it is incomplete,
 * -EBADMSG if it is not a reply we expect (simple string, error, integer,
 * bulk string). */
static ssize_t reply_length(const char *buf, size_t n) {
        const char *crlf;
        size_t header;

        if (n == 0)
                return 0;
        crlf = memmem(buf, n, "\r\n", 2);
        if (!crlf)
                return 0;
        header = (size_t) (crlf - buf) + 2;
        switch (buf[0]) {
        case '+':
        case '-':
        case ':':
                return (ssize_t) header;
        case '$': {
                char *end;
                long len = strtol(buf + 1, &end, 10);

                if (end != crlf || len < -1 || len > INBUF_SIZE)
                        return -EBADMSG;
                if (len == -1)
                        return (ssize_t) header;
                if (n < header + (size_t) len + 2)
                        return 0;
                return (ssize_t) (header + (size_t) len + 2);
        }
        default:
                return -EBADMSG;
        }
}

/* Sends cmd and reads its one reply, blocking: the set-up before timing. */
static int roundtrip(int fd, const char *cmd) {
        char buf[256];
        size_t have = 0;

        if (write(fd, cmd, strlen(cmd)) != (ssize_t) strlen(cmd))
                return -EIO;
        for (;;) {
                ssize_t k = read(fd, buf + have, sizeof(buf) - have);

                if (k <= 0)
                        return k < 0 ? -errno : -ECONNRESET;
                have += (size_t) k;
                ssize_t len = reply_length(buf, have);
                if (len < 0)
                        return (int) len;
                if (len > 0)
                        return buf[0] == '-' ? -EPROTO : 0;
                if (have == sizeof(buf))
                        return -EBADMSG;
        }
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* Nearest-rank percentile q of n_total requests whose n_answered fastest
 * latencies are sorted[]; the rest were lost (slower than any). */
static void print_percentile(const char *name, double q, const uint64_t *sorted, size_t n_answered,
                             size_t n_total) {
        size_t rank = (size_t) ((double) n_total * q + 0.999999);

        if (rank < 1)
                rank = 1;
        if (rank > n_answered)
                printf(" %s=inf", name);
        else
                printf(" %s=%.1f", name, (double) sorted[rank - 1] / 1e3);
}

static void usage(FILE *f) {
        fprintf(f, "usage: bench-redis-client -p PORT [-r REQ_PER_S] [-d SECONDS] [-c get|ping]\n");
}

int main(int argc, char **argv) {
        int port = 0, rate = 2000, opt, fd;
        double duration = 10;
        const char *command = "get";
        char request[128], set_cmd[128];
        size_t request_len, n_total, n_sent = 0, n_answered = 0, out_off = 0, out_len = 0, in_len = 0;
        uint64_t *latency, start, period_ns, end_wait;
        char *outbuf, *inbuf;

        while ((opt = getopt(argc, argv, "p:r:d:c:h")) != -1) {
                switch (opt) {
                case 'p':
                        port = atoi(optarg);
                        break;
                case 'r':
                        rate = atoi(optarg);
                        break;
                case 'd':
                        duration = atof(optarg);
                        break;
                case 'c':
                        command = optarg;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return 1;
                }
        }
        if (port <= 0 || port > 65535 || rate <= 0 || rate > MAX_RATE || !(duration > 0 && duration < 86400) ||
            (strcmp(command, "get") != 0 && strcmp(command, "ping") != 0)) {
                usage(stderr);
                return 1;
        }

        if (strcmp(command, "get") == 0)
                snprintf(request, sizeof(request), "*2\r\n$3\r\nGET\r\n$%zu\r\n%s\r\n", strlen(KEY), KEY);
        else
                snprintf(request, sizeof(request), "*1\r\n$4\r\nPING\r\n");
        request_len = strlen(request);
        n_total = (size_t) (duration * rate);
        if (n_total == 0)
                n_total = 1;
        period_ns = NSEC_PER_SEC / (uint64_t) rate;

        latency = calloc(n_total, sizeof(*latency));
        /* Worst case every request is due at once (the client was stalled). */
        outbuf = malloc(n_total * request_len);
        inbuf = malloc(INBUF_SIZE);
        if (!latency || !outbuf || !inbuf) {
                fprintf(stderr, "bench-redis-client: out of memory\n");
                return 1;
        }

        fd = connect_loopback(port);
        if (fd < 0) {
                fprintf(stderr, "bench-redis-client: connect to 127.0.0.1:%d: %s\n", port, strerror(-fd));
                return 1;
        }
        snprintf(set_cmd, sizeof(set_cmd), "*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$%zu\r\n%s\r\n", strlen(KEY), KEY,
                 strlen(VALUE), VALUE);
        int r = roundtrip(fd, set_cmd);
        if (r < 0) {
                fprintf(stderr, "bench-redis-client: SET: %s\n", strerror(-r));
                return 1;
        }
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) {
                perror("bench-redis-client: fcntl");
                return 1;
        }

        start = now_ns();
        end_wait = start + (uint64_t) (n_total - 1) * period_ns + GRACE_SEC * NSEC_PER_SEC;
        while (n_answered < n_total) {
                uint64_t now = now_ns();

                if (now > end_wait)
                        break;
                /* Queue every request that is due by now. */
                while (n_sent < n_total && start + n_sent * period_ns <= now) {
                        memcpy(outbuf + out_len, request, request_len);
                        out_len += request_len;
                        n_sent++;
                }
                if (out_off < out_len) {
                        ssize_t k = write(fd, outbuf + out_off, out_len - out_off);

                        if (k < 0 && errno != EAGAIN && errno != EINTR) {
                                perror("bench-redis-client: write");
                                return 1;
                        }
                        if (k > 0)
                                out_off += (size_t) k;
                }

                struct pollfd pfd = { .fd = fd, .events = POLLIN | (out_off < out_len ? POLLOUT : 0) };
                uint64_t wake = n_sent < n_total ? start + n_sent * period_ns : end_wait;
                struct timespec timeout = { 0, 0 };
                now = now_ns();
                if (wake > now)
                        timeout = (struct timespec) { (time_t) ((wake - now) / NSEC_PER_SEC),
                                                      (long) ((wake - now) % NSEC_PER_SEC) };
                if (ppoll(&pfd, 1, &timeout, NULL) < 0 && errno != EINTR) {
                        perror("bench-redis-client: ppoll");
                        return 1;
                }
                if (!(pfd.revents & (POLLIN | POLLHUP | POLLERR)))
                        continue;

                ssize_t k = read(fd, inbuf + in_len, INBUF_SIZE - in_len);
                /* One timestamp for every reply in this read: they all
                 * arrived by now. */
                uint64_t received = now_ns();
                if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
                        fprintf(stderr, "bench-redis-client: connection lost: %s\n",
                                k == 0 ? "closed by the server" : strerror(errno));
                        break;
                }
                if (k < 0)
                        continue;
                in_len += (size_t) k;
                size_t off = 0;
                for (;;) {
                        ssize_t len = reply_length(inbuf + off, in_len - off);

                        if (len < 0 || (len > 0 && inbuf[off] == '-')) {
                                fprintf(stderr, "bench-redis-client: unexpected reply from the server\n");
                                return 1;
                        }
                        if (len == 0)
                                break;
                        if (n_answered >= n_sent) {
                                fprintf(stderr, "bench-redis-client: more replies than requests\n");
                                return 1;
                        }
                        latency[n_answered] = received - (start + n_answered * period_ns);
                        n_answered++;
                        off += (size_t) len;
                }
                memmove(inbuf, inbuf + off, in_len - off);
                in_len -= off;
        }
        close(fd);

        qsort(latency, n_answered, sizeof(*latency), cmp_u64);
        printf("requests=%zu answered=%zu lost=%zu", n_total, n_answered, n_total - n_answered);
        print_percentile("p50_us", 0.50, latency, n_answered, n_total);
        print_percentile("p99_us", 0.99, latency, n_answered, n_total);
        print_percentile("p999_us", 0.999, latency, n_answered, n_total);
        print_percentile("max_us", 1.0, latency, n_answered, n_total);
        printf("\n");
        free(latency);
        free(outbuf);
        free(inbuf);
        return 0;
}

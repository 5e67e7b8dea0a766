/* SPDX-License-Identifier: Apache-2.0 */
#include "cpu-topology.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/macro.h"

#define SYSFS_SYSTEM_ROOT "/sys/devices/system"

/* The longest file read here: a cpulist of 8192 CPUs with every other one
 * online ("0,2,4,...") is about 20 KiB; meminfo is 1-2 KiB. */
#define SYSFS_FILE_MAX (64 * 1024)

#define MASK_WORDS (CPU_MASK_MAX / 64)

unsigned cpu_mask_count(const CpuMask *m) {
        unsigned n = 0;

        for (size_t i = 0; i < MASK_WORDS; i++)
                n += (unsigned) __builtin_popcountll(m->bits[i]);
        return n;
}

bool cpu_mask_is_empty(const CpuMask *m) {
        for (size_t i = 0; i < MASK_WORDS; i++)
                if (m->bits[i])
                        return false;
        return true;
}

bool cpu_mask_equal(const CpuMask *a, const CpuMask *b) {
        return memcmp(a->bits, b->bits, sizeof(a->bits)) == 0;
}

bool cpu_mask_is_subset(const CpuMask *a, const CpuMask *b) {
        for (size_t i = 0; i < MASK_WORDS; i++)
                if (a->bits[i] & ~b->bits[i])
                        return false;
        return true;
}

bool cpu_mask_intersects(const CpuMask *a, const CpuMask *b) {
        for (size_t i = 0; i < MASK_WORDS; i++)
                if (a->bits[i] & b->bits[i])
                        return true;
        return false;
}

void cpu_mask_and(CpuMask *ret, const CpuMask *a, const CpuMask *b) {
        for (size_t i = 0; i < MASK_WORDS; i++)
                ret->bits[i] = a->bits[i] & b->bits[i];
}

void cpu_mask_or(CpuMask *ret, const CpuMask *a, const CpuMask *b) {
        for (size_t i = 0; i < MASK_WORDS; i++)
                ret->bits[i] = a->bits[i] | b->bits[i];
}

void cpu_mask_andnot(CpuMask *ret, const CpuMask *a, const CpuMask *b) {
        for (size_t i = 0; i < MASK_WORDS; i++)
                ret->bits[i] = a->bits[i] & ~b->bits[i];
}

int cpu_mask_next(const CpuMask *m, unsigned from) {
        size_t w = from / 64;
        uint64_t word;

        if (from >= CPU_MASK_MAX)
                return -1;
        word = m->bits[w] & (~UINT64_C(0) << (from % 64));
        for (;;) {
                if (word)
                        return (int) (w * 64 + (size_t) __builtin_ctzll(word));
                if (++w >= MASK_WORDS)
                        return -1;
                word = m->bits[w];
        }
}

int cpu_mask_last(const CpuMask *m) {
        for (size_t w = MASK_WORDS; w-- > 0;)
                if (m->bits[w])
                        return (int) (w * 64 + 63 - (size_t) __builtin_clzll(m->bits[w]));
        return -1;
}

/* Sets a..b (both < CPU_MASK_MAX) a word at a time: a list of many long
 * ranges must not cost a loop per CPU. */
static void mask_set_range(CpuMask *m, unsigned a, unsigned b) {
        while (a <= b) {
                unsigned w = a / 64, lo = a % 64, hi = b / 64 == w ? b % 64 : 63;
                uint64_t bits = (hi - lo == 63 ? ~UINT64_C(0) : ((UINT64_C(1) << (hi - lo + 1)) - 1)) << lo;

                m->bits[w] |= bits;
                a = (w + 1) * 64;
        }
}

/* One decimal number at *p (digits only). Returns 0, -EINVAL (no digit), or
 * -ERANGE (>= CPU_MASK_MAX). */
static int parse_number(const char **p, const char *end, unsigned *ret) {
        const char *s = *p;
        unsigned v = 0;

        if (s >= end || *s < '0' || *s > '9')
                return -EINVAL;
        for (; s < end && *s >= '0' && *s <= '9'; s++) {
                /* Leading zeros are harmless; the bound keeps v small. */
                v = v * 10 + (unsigned) (*s - '0');
                if (v >= CPU_MASK_MAX)
                        return -ERANGE;
        }
        *p = s;
        *ret = v;
        return 0;
}

int cpu_list_parse(const char *text, size_t len, CpuMask *ret) {
        const char *p = text, *end = text + len;
        CpuMask m = {};

        if (len > 0 && text[len - 1] == '\n')
                end--;
        if (p == end) {
                *ret = m;
                return 0;
        }

        for (;;) {
                unsigned a, b;
                int r;

                r = parse_number(&p, end, &a);
                if (r < 0)
                        return r;
                b = a;
                if (p < end && *p == '-') {
                        p++;
                        r = parse_number(&p, end, &b);
                        if (r < 0)
                                return r;
                        if (b < a)
                                return -EINVAL;
                }
                mask_set_range(&m, a, b);

                if (p == end)
                        break;
                if (*p != ',')
                        return -EINVAL;
                p++;
        }

        *ret = m;
        return 0;
}

int cpu_list_parse_string(const char *s, CpuMask *ret) {
        if (!s)
                return -EINVAL;
        return cpu_list_parse(s, strlen(s), ret);
}

size_t cpu_list_format(const CpuMask *m, char *buf, size_t size) {
        size_t n = 0;
        bool first = true;

        if (size > 0)
                buf[0] = 0;

        for (int a = cpu_mask_next(m, 0); a >= 0;) {
                int b = a, next;
                char item[32];
                int k;

                while ((next = cpu_mask_next(m, (unsigned) b + 1)) == b + 1)
                        b = next;

                if (a == b)
                        k = snprintf(item, sizeof(item), "%s%d", first ? "" : ",", a);
                else
                        k = snprintf(item, sizeof(item), "%s%d-%d", first ? "" : ",", a, b);
                first = false;

                if (n + (size_t) k < size)
                        memcpy(buf + n, item, (size_t) k + 1);
                else if (n < size)
                        buf[n] = 0; /* what fits would be cut mid-number: stop */
                n += (size_t) k;
                a = next;
        }
        return n;
}

int cpu_list_format_alloc(const CpuMask *m, char **ret) {
        size_t n = cpu_list_format(m, NULL, 0);
        char *s = malloc(n + 1);

        if (!s)
                return -ENOMEM;
        (void) cpu_list_format(m, s, n + 1);
        *ret = s;
        return 0;
}

CpuTopology *cpu_topology_free(CpuTopology *t) {
        if (!t)
                return NULL;
        free(t->node_cpus);
        free(t->node_memory);
        free(t->cpu_node);
        free(t);
        return NULL;
}

int cpu_topology_new(const CpuMask *online, const CpuMask *nodes, const CpuMask *node_cpus,
                     const uint64_t *node_memory, unsigned n_nodes, CpuTopology **ret) {
        _cleanup_(cpu_topology_freep) CpuTopology *t = NULL;
        CpuMask seen = {};

        if (!online || !nodes || cpu_mask_is_empty(online) || n_nodes == 0 || n_nodes > NUMA_NODES_MAX)
                return -EINVAL;
        if (cpu_mask_last(nodes) >= (int) n_nodes)
                return -EINVAL;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->node_cpus = calloc(n_nodes, sizeof(CpuMask));
        t->node_memory = calloc(n_nodes, sizeof(uint64_t));
        t->cpu_node = malloc(CPU_MASK_MAX * sizeof(int16_t));
        if (!t->node_cpus || !t->node_memory || !t->cpu_node)
                return -ENOMEM;

        t->online = *online;
        t->nodes = *nodes;
        t->n_nodes = n_nodes;
        for (unsigned c = 0; c < CPU_MASK_MAX; c++)
                t->cpu_node[c] = -1;

        CPU_MASK_FOREACH(node, nodes) {
                cpu_mask_and(&t->node_cpus[node], &node_cpus[node], online);
                if (cpu_mask_intersects(&seen, &t->node_cpus[node]))
                        return -EINVAL; /* a CPU in two nodes */
                cpu_mask_or(&seen, &seen, &t->node_cpus[node]);
                CPU_MASK_FOREACH(cpu, &t->node_cpus[node])
                        t->cpu_node[cpu] = (int16_t) node;
                if (node_memory)
                        t->node_memory[node] = node_memory[node];
        }
        if (!cpu_mask_equal(&seen, online))
                return -EINVAL; /* an online CPU in no node */

        *ret = TAKE_PTR(t);
        return 0;
}

int cpu_topology_node_of(const CpuTopology *t, unsigned cpu) {
        if (cpu >= CPU_MASK_MAX)
                return -1;
        return t->cpu_node[cpu];
}

void cpu_topology_nodes_of(const CpuTopology *t, const CpuMask *cpus, CpuMask *ret_nodes) {
        CpuMask nodes = {};

        CPU_MASK_FOREACH(cpu, cpus)
                if (t->cpu_node[cpu] >= 0)
                        cpu_mask_set(&nodes, (unsigned) t->cpu_node[cpu]);
        *ret_nodes = nodes;
}

void cpu_topology_cpus_of(const CpuTopology *t, const CpuMask *nodes, CpuMask *ret_cpus) {
        CpuMask cpus = {};

        CPU_MASK_FOREACH(node, nodes)
                if ((unsigned) node < t->n_nodes && cpu_mask_test(&t->nodes, (unsigned) node))
                        cpu_mask_or(&cpus, &cpus, &t->node_cpus[node]);
        *ret_cpus = cpus;
}

/* Reads a whole sysfs file below dirfd into buf (NUL-terminated). Returns
 * its length or -errno; -EFBIG if it does not fit. */
static ssize_t read_sysfs_file(int dirfd, const char *path, char *buf, size_t size) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        size_t n = 0;

        if (fd < 0)
                return negative_errno();
        for (;;) {
                ssize_t k = read(fd, buf + n, size - 1 - n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t) k;
                if (n == size - 1)
                        return -EFBIG;
        }
        buf[n] = 0;
        return (ssize_t) n;
}

static int read_cpu_list(int dirfd, const char *path, char *buf, CpuMask *ret) {
        ssize_t n = read_sysfs_file(dirfd, path, buf, SYSFS_FILE_MAX);

        if (n < 0)
                return (int) n;
        return cpu_list_parse(buf, (size_t) n, ret);
}

/* "Node 0 MemTotal:       16323440 kB" from a node's meminfo. Returns 0
 * with the bytes, -ENOENT without such a line, -EINVAL if malformed. */
static int parse_node_memtotal(const char *text, uint64_t *ret) {
        const char *p = strstr(text, " MemTotal:");
        char *end;
        unsigned long long kb;

        if (!p)
                return -ENOENT;
        p += strlen(" MemTotal:");
        while (*p == ' ')
                p++;
        if (*p < '0' || *p > '9')
                return -EINVAL;
        errno = 0;
        kb = strtoull(p, &end, 10);
        if (errno != 0 || strncmp(end, " kB", 3) != 0 || kb > UINT64_MAX / 1024)
                return -EINVAL;
        *ret = (uint64_t) kb * 1024;
        return 0;
}

/* "node<N>" with N a number without leading zeros. */
static int parse_node_dir(const char *name, unsigned *ret) {
        const char *p = name + 4;
        unsigned v = 0;

        if (strncmp(name, "node", 4) != 0 || !*p || (p[0] == '0' && p[1]))
                return -EINVAL;
        for (; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned) (*p - '0');
                if (v >= NUMA_NODES_MAX)
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

int cpu_topology_load(const char *sysfs_root, CpuTopology **ret) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ CpuMask *node_cpus = NULL;
        _cleanup_free_ uint64_t *node_memory = NULL;
        _cleanup_close_ int root_fd = -1, node_fd = -1;
        CpuMask online, nodes = {};
        unsigned n_nodes = 0;
        DIR *d;
        int r = 0;

        root_fd = open(sysfs_root ?: SYSFS_SYSTEM_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return negative_errno();
        buf = malloc(SYSFS_FILE_MAX);
        if (!buf)
                return -ENOMEM;

        r = read_cpu_list(root_fd, "cpu/online", buf, &online);
        if (r < 0)
                return r;

        node_cpus = calloc(NUMA_NODES_MAX, sizeof(CpuMask));
        node_memory = calloc(NUMA_NODES_MAX, sizeof(uint64_t));
        if (!node_cpus || !node_memory)
                return -ENOMEM;

        node_fd = openat(root_fd, "node", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (node_fd < 0) {
                if (errno != ENOENT)
                        return negative_errno();
                /* CONFIG_NUMA=n: one node holds everything. */
                cpu_mask_set(&nodes, 0);
                node_cpus[0] = online;
                return cpu_topology_new(&online, &nodes, node_cpus, node_memory, 1, ret);
        }

        d = fdopendir(TAKE_FD(node_fd));
        if (!d)
                return negative_errno();
        for (struct dirent *de; (errno = 0, de = readdir(d));) {
                char path[64];
                unsigned node;
                ssize_t n;

                if (parse_node_dir(de->d_name, &node) < 0)
                        continue; /* "online", "possible", "has_cpu", ... */

                (void) snprintf(path, sizeof(path), "node/node%u/cpulist", node);
                r = read_cpu_list(root_fd, path, buf, &node_cpus[node]);
                if (r < 0)
                        break;

                (void) snprintf(path, sizeof(path), "node/node%u/meminfo", node);
                n = read_sysfs_file(root_fd, path, buf, SYSFS_FILE_MAX);
                if (n >= 0) {
                        r = parse_node_memtotal(buf, &node_memory[node]);
                        if (r == -ENOENT)
                                r = 0;
                        if (r < 0)
                                break;
                } else if (n != -ENOENT) {
                        r = (int) n;
                        break;
                }

                cpu_mask_set(&nodes, node);
                n_nodes = MAX(n_nodes, node + 1);
        }
        if (r >= 0 && errno != 0)
                r = negative_errno();
        closedir(d);
        if (r < 0)
                return r;
        if (n_nodes == 0)
                return -EINVAL; /* a node directory with no node in it */

        return cpu_topology_new(&online, &nodes, node_cpus, node_memory, n_nodes, ret);
}

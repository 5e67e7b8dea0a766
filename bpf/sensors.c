/* SPDX-License-Identifier: Apache-2.0 */
/* The sensors as one object: probing what this kernel and these privileges
 * allow, loading each sensor on its own (one that cannot load is down, with
 * a reason), and reading the maps into per-cgroup deltas. The kernel side of
 * each sensor is in <kind>.bpf.c, its loader in <kind>.c. */

#include "sensors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent/macro.h"
#include "latency-histogram.h"
#include "sensor-counters.h"
#include "sensor-types.h"
#include "sensors-private.h"

#if NODEQOS_HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "runqueue.h"
#include "sensor-impl.h"
#endif

_Static_assert(LATENCY_BUCKETS == NQ_LATENCY_BUCKETS, "user space and BPF disagree on the buckets");

static const char *const sensor_kind_table[_SENSOR_MAX] = {
        [SENSOR_RUNQUEUE] = "runqueue",
        [SENSOR_RECLAIM] = "reclaim",
        [SENSOR_BLOCK_IO] = "block_io",
};

const char *sensor_kind_to_string(SensorKind k) {
        return k >= 0 && k < _SENSOR_MAX ? sensor_kind_table[k] : NULL;
}

#define REASON_MAX 256

typedef struct SensorState {
        bool up;
        char reason[REASON_MAX];
#if NODEQOS_HAVE_BPF
        const SensorImpl *impl;
        SensorHandle h;
        CounterTable prev, cur;             /* the stats map at the last and this read */
        CounterTable prev_pairs, cur_pairs; /* run queue: the pair map */
        uint64_t *pending;                  /* removed at the last read: deleted once more */
        size_t n_pending;
#endif
} SensorState;

struct Sensors {
        CgroupMode mode;
        SensorState sensor[_SENSOR_MAX];
        size_t ncpus;
        /* Buffers of batched map lookups. */
        uint8_t *batch_keys, *batch_values;
        size_t batch_keys_size, batch_values_size;
        unsigned batch_grow;
        uint64_t user_dropped; /* stale in-flight IO deleted by the reader */
        uint64_t reads;
};

bool sensors_up(const Sensors *s, SensorKind k) {
        return s && k >= 0 && k < _SENSOR_MAX && s->sensor[k].up;
}

const char *sensors_down_reason(const Sensors *s, SensorKind k) {
        if (!s || k < 0 || k >= _SENSOR_MAX)
                return "no such sensor";
        return s->sensor[k].up ? NULL : s->sensor[k].reason;
}

_printf_(2, 3) static void set_down(SensorState *st, const char *fmt, ...) {
        va_list ap;

        st->up = false;
        va_start(ap, fmt);
        (void) vsnprintf(st->reason, sizeof(st->reason), fmt, ap);
        va_end(ap);
}

void cgroup_preemptors_add(CgroupPreemptor top[static SENSORS_TOP_PREEMPTORS], uint64_t cgroup_id, uint64_t count) {
        CgroupPreemptor p = { cgroup_id, count };
        unsigned i, n = SENSORS_TOP_PREEMPTORS;

        if (count == 0)
                return;
        /* Already listed: take it out and add its count. */
        for (i = 0; i < n && top[i].count > 0; i++)
                if (top[i].cgroup_id == cgroup_id) {
                        p.count += top[i].count;
                        memmove(&top[i], &top[i + 1], (n - 1 - i) * sizeof(top[0]));
                        top[n - 1] = (CgroupPreemptor) {};
                        break;
                }
        /* Insert before the first smaller one; the last falls off. */
        for (i = 0; i < n; i++)
                if (top[i].count < p.count) {
                        memmove(&top[i + 1], &top[i], (n - 1 - i) * sizeof(top[0]));
                        top[i] = p;
                        return;
                }
}

#if NODEQOS_HAVE_BPF

/* The list sensors_read() hands out. */
typedef struct DeltaList {
        CgroupSensorDelta *v;
        size_t n, allocated;
} DeltaList;

static CgroupSensorDelta *delta_list_push(DeltaList *l, uint64_t id, SensorKind k) {
        CgroupSensorDelta *d;

        if (l->n == l->allocated) {
                size_t a = l->allocated ? l->allocated * 2 : 64;
                CgroupSensorDelta *p = reallocarray(l->v, a, sizeof(*p));

                if (!p)
                        return NULL;
                l->v = p;
                l->allocated = a;
        }
        d = &l->v[l->n++];
        *d = (CgroupSensorDelta) { .cgroup_id = id, .kinds = 1U << k };
        return d;
}

static int compare_deltas(const void *a, const void *b) {
        const CgroupSensorDelta *x = a, *y = b;

        if (x->cgroup_id != y->cgroup_id)
                return x->cgroup_id < y->cgroup_id ? -1 : 1;
        return x->kinds < y->kinds ? -1 : x->kinds > y->kinds;
}

/* dst += src, for entries of one cgroup from different sensors (v2). */
static void delta_merge(CgroupSensorDelta *dst, const CgroupSensorDelta *src) {
        dst->kinds |= src->kinds;
        latency_histogram_add(&dst->runqueue, &src->runqueue);
        dst->preempted += src->preempted;
        dst->preempted_by_other += src->preempted_by_other;
        for (unsigned i = 0; i < SENSORS_TOP_PREEMPTORS && src->preemptors[i].count > 0; i++)
                cgroup_preemptors_add(dst->preemptors, src->preemptors[i].cgroup_id, src->preemptors[i].count);
        dst->reclaim_ns += src->reclaim_ns;
        dst->reclaim_count += src->reclaim_count;
        for (unsigned w = 0; w < 2; w++) {
                latency_histogram_add(&dst->io[w], &src->io[w]);
                dst->io_bytes[w] += src->io_bytes[w];
        }
}

/* Sorted by id; on v2 one entry per cgroup. */
static void delta_list_finish(DeltaList *l, CgroupMode mode) {
        size_t kept = 0;

        if (l->n > 1)
                qsort(l->v, l->n, sizeof(l->v[0]), compare_deltas);
        if (mode != CGROUP_MODE_V2)
                return;
        for (size_t i = 0; i < l->n; i++) {
                if (kept > 0 && l->v[kept - 1].cgroup_id == l->v[i].cgroup_id)
                        delta_merge(&l->v[kept - 1], &l->v[i]);
                else if (kept++ != i)
                        l->v[kept - 1] = l->v[i];
        }
        l->n = kept;
}

static const SensorImpl *const sensor_impls[_SENSOR_MAX] = {
        [SENSOR_RUNQUEUE] = &runqueue_sensor_impl,
        [SENSOR_RECLAIM] = &reclaim_sensor_impl,
        [SENSOR_BLOCK_IO] = &block_io_sensor_impl,
};

/* libbpf's print hook is process-wide and has no userdata: the options of
 * the sensors_open() in progress. */
static const SensorsOptions *libbpf_log_target;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap) {
        _cleanup_free_ char *text = NULL;
        char *line, *save = NULL;

        /* Debug level is every CO-RE relocation (hundreds of lines per
         * load); warnings carry the verifier's log of a refusal. */
        if (level == LIBBPF_DEBUG || !libbpf_log_target || !libbpf_log_target->libbpf_log)
                return 0;
        if (vasprintf(&text, fmt, ap) < 0)
                return 0;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                libbpf_log_target->libbpf_log(line, libbpf_log_target->userdata);
        return 0;
}

/* What sensors_open() learns about the kernel once for all sensors. */
typedef struct KernelFeatures {
        struct btf *vmlinux; /* NULL: no BTF */
        char btf_error[128];
        int task_storage;    /* 1 yes, 0 no, < 0 -errno of the probe */
        bool no_prealloc;
        bool lockdown_confidentiality;
} KernelFeatures;

static bool kernel_at_least(unsigned major, unsigned minor) {
        struct utsname u;
        unsigned a = 0, b = 0;

        if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &a, &b) != 2)
                return false;
        return a > major || (a == major && b >= minor);
}

static bool lockdown_confidentiality(void) {
        _cleanup_fclose_ FILE *f = fopen("/sys/kernel/security/lockdown", "re");
        char buf[128] = "";

        return f && fgets(buf, sizeof(buf), f) && strstr(buf, "[confidentiality]");
}

static void kernel_features_probe(KernelFeatures *k) {
        *k = (KernelFeatures) {};
        if (access("/sys/kernel/btf/vmlinux", R_OK) < 0)
                (void) snprintf(k->btf_error, sizeof(k->btf_error), "kernel lacks BTF (/sys/kernel/btf/vmlinux: %s)",
                                strerror(errno));
        else {
                k->vmlinux = btf__load_vmlinux_btf();
                if (!k->vmlinux)
                        (void) snprintf(k->btf_error, sizeof(k->btf_error), "cannot read kernel BTF: %s",
                                        strerror(errno));
        }
        k->task_storage = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL);
        /* Since 6.1 (bpf_mem_alloc) tracing programs may insert into maps
         * that allocate on demand: memory for the cgroups seen, not for
         * max_cgroups of them on every CPU. */
        k->no_prealloc = kernel_at_least(6, 1);
        k->lockdown_confidentiality = lockdown_confidentiality();
}

static void kernel_features_done(KernelFeatures *k) {
        btf__free(k->vmlinux);
        k->vmlinux = NULL;
}

static bool btf_has_tracepoint(const struct btf *btf, const char *tp) {
        char name[128];

        (void) snprintf(name, sizeof(name), "btf_trace_%s", tp);
        return btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) >= 0;
}

static bool btf_has_enumerator(const struct btf *btf, const char *enum_name, const char *value) {
        int id = btf__find_by_name_kind(btf, enum_name, BTF_KIND_ENUM);
        const struct btf_type *t;
        const struct btf_enum *e;

        if (id < 0)
                return false;
        t = btf__type_by_id(btf, id);
        e = btf_enum(t);
        for (unsigned i = 0; i < btf_vlen(t); i++)
                if (streq_ptr(btf__name_by_offset(btf, e[i].name_off), value))
                        return true;
        return false;
}

static const char *privilege_hint(int error, const KernelFeatures *k) {
        if (error != -EPERM && error != -EACCES)
                return "";
        if (k->lockdown_confidentiality)
                return " (kernel lockdown: confidentiality)";
        return " (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN)";
}

/* Loads one sensor, or says why not. */
static void sensor_load(Sensors *s, SensorKind kind, const SensorsOptions *o, const KernelFeatures *k) {
        SensorState *st = &s->sensor[kind];
        const SensorImpl *impl = sensor_impls[kind];
        SensorLoadOptions lo = {
                .cgroup_v1 = o->mode != CGROUP_MODE_V2,
                .max_cgroups = o->max_cgroups ?: SENSORS_DEFAULT_MAX_CGROUPS,
                .no_prealloc = k->no_prealloc,
        };
        const char *step = NULL;
        int r;

        st->impl = impl;
        st->h = (SensorHandle) { .stats_fd = -1, .removed_fd = -1, .pairs_fd = -1, .inflight_fd = -1 };
        if (lo.max_cgroups > SENSORS_MAX_MAX_CGROUPS)
                lo.max_cgroups = SENSORS_MAX_MAX_CGROUPS;

        if (!k->vmlinux) {
                set_down(st, "%s", k->btf_error);
                return;
        }
        for (const char *const *tp = impl->tracepoints; *tp; tp++)
                if (!btf_has_tracepoint(k->vmlinux, *tp)) {
                        set_down(st, "kernel has no tracepoint %s", *tp);
                        return;
                }
        if (lo.cgroup_v1 && !btf_has_enumerator(k->vmlinux, "cgroup_subsys_id", impl->subsys_enumerator)) {
                set_down(st, "kernel lacks the %s controller", cgroup_controller_to_string(impl->controller));
                return;
        }
        if (impl->task_storage && k->task_storage == 0) {
                set_down(st, "kernel lacks task-local storage for tracing (needs Linux >= 5.11)");
                return;
        }

        r = impl->load(&lo, &st->h, &step);
        if (r < 0) {
                set_down(st, "%s refused: %s%s", step, strerror(-r), privilege_hint(r, k));
                return;
        }
        st->up = true;
        st->reason[0] = 0;
}

static void sensor_done(SensorState *st) {
        if (st->impl && st->h.skel)
                st->impl->destroy(&st->h);
        counter_table_done(&st->prev);
        counter_table_done(&st->cur);
        counter_table_done(&st->prev_pairs);
        counter_table_done(&st->cur_pairs);
        free(st->pending);
        st->pending = NULL;
        st->up = false;
}

int sensors_open(const SensorsOptions *options, Sensors **ret) {
        static const SensorsOptions defaults = { .mode = CGROUP_MODE_V2 };
        const SensorsOptions *o = options ?: &defaults;
        Sensors *s = calloc(1, sizeof(*s));
        KernelFeatures k = {};
        libbpf_print_fn_t old_print;
        bool any = false;
        int ncpus;

        if (!s)
                return -ENOMEM;
        s->mode = o->mode;
        for (int i = 0; i < _SENSOR_MAX; i++) {
                SensorState *st = &s->sensor[i];

                st->impl = sensor_impls[i];
                counter_table_init(&st->prev, counter_layout_n(&st->impl->layout));
                counter_table_init(&st->cur, counter_layout_n(&st->impl->layout));
                counter_table_init(&st->prev_pairs, 1);
                counter_table_init(&st->cur_pairs, 1);
                if (o->disabled[i])
                        set_down(st, "disabled by configuration");
                else
                        any = true;
        }
        if (!any) {
                *ret = s;
                return 0;
        }

        ncpus = libbpf_num_possible_cpus();
        if (ncpus <= 0) {
                for (int i = 0; i < _SENSOR_MAX; i++)
                        if (!o->disabled[i])
                                set_down(&s->sensor[i], "cannot count the possible CPUs: %s", strerror(-ncpus));
                *ret = s;
                return 0;
        }
        s->ncpus = (size_t) ncpus;

        libbpf_log_target = o;
        old_print = libbpf_set_print(libbpf_print);
        kernel_features_probe(&k);
        for (int i = 0; i < _SENSOR_MAX; i++)
                if (!o->disabled[i])
                        sensor_load(s, (SensorKind) i, o, &k);
        kernel_features_done(&k);
        (void) libbpf_set_print(old_print);
        libbpf_log_target = NULL;

        *ret = s;
        return 0;
}

Sensors *sensors_free(Sensors *s) {
        if (!s)
                return NULL;
        for (int i = 0; i < _SENSOR_MAX; i++)
                sensor_done(&s->sensor[i]);
        free(s->batch_keys);
        free(s->batch_values);
        free(s);
        return NULL;
}

/* A batch of a map's entries fills about this many bytes (per-CPU values:
 * a 256-CPU node has 94 KiB per block IO entry), 8 to 1024 entries, twice
 * as many after each ENOSPC (a hash bucket holding more than a batch). */
#define BATCH_BYTES (4U << 20)
#define BATCH_ENTRIES_MIN 8U
#define BATCH_ENTRIES_MAX 1024U
#define BATCH_GROW_MAX 10U

static size_t batch_entries(const Sensors *s, size_t value_size) {
        size_t n = BATCH_BYTES / value_size;

        n = MIN(MAX(n, (size_t) BATCH_ENTRIES_MIN), (size_t) BATCH_ENTRIES_MAX);
        return n << s->batch_grow;
}

static int batch_reserve(Sensors *s, size_t entries, size_t key_size, size_t value_size) {
        size_t kb = entries * key_size, vb = entries * value_size;

        if (kb > s->batch_keys_size) {
                uint8_t *p = realloc(s->batch_keys, kb);

                if (!p)
                        return -ENOMEM;
                s->batch_keys = p;
                s->batch_keys_size = kb;
        }
        if (vb > s->batch_values_size) {
                uint8_t *p = realloc(s->batch_values, vb);

                if (!p)
                        return -ENOMEM;
                s->batch_values = p;
                s->batch_values_size = vb;
        }
        return 0;
}

/* Reads a whole per-CPU hash map (keys of one or two u64) into ret, the
 * CPUs' values summed, sorted by key. */
static int map_read(Sensors *s, int fd, size_t key_size, const CounterLayout *l, CounterTable *ret) {
        size_t value_size = counter_layout_stride(l) * s->ncpus;
        uint64_t sums[COUNTERS_MAX];
        uint64_t in_batch[2] = {}, out_batch[2] = {}; /* hash tables: a bucket index */
        bool first = true;
        int r;

        if (counter_layout_n(l) > COUNTERS_MAX)
                return -EINVAL;
        counter_table_clear(ret);
        for (;;) {
                size_t entries = batch_entries(s, value_size);
                __u32 count = (__u32) entries;

                r = batch_reserve(s, entries, key_size, value_size);
                if (r < 0)
                        return r;
                r = bpf_map_lookup_batch(fd, first ? NULL : in_batch, out_batch, s->batch_keys, s->batch_values,
                                         &count, NULL);
                if (r < 0 && r != -ENOENT) {
                        /* One hash bucket holds more than count: nothing was
                         * returned; retry the same bucket with more room. */
                        if (r == -ENOSPC && s->batch_grow < BATCH_GROW_MAX) {
                                s->batch_grow++;
                                continue;
                        }
                        return r;
                }
                for (__u32 i = 0; i < count; i++) {
                        const uint8_t *key = s->batch_keys + (size_t) i * key_size;
                        uint64_t k[2] = {};

                        memcpy(k, key, MIN(key_size, sizeof(k)));
                        counters_sum_percpu(l, s->batch_values + (size_t) i * value_size, s->ncpus, sums);
                        if (counter_table_append(ret, k[0], k[1], sums) < 0)
                                return -ENOMEM;
                }
                if (r == -ENOENT)
                        break;
                memcpy(in_batch, out_batch, sizeof(in_batch));
                first = false;
        }
        counter_table_sort(ret);
        return 0;
}

static int compare_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* The keys (u64) of a hash map, sorted: the removed map (a handful) or,
 * for the tests, a stats map. */
static int map_keys_read(int fd, uint64_t **ret, size_t *ret_n) {
        uint64_t key, next, *ids = NULL;
        size_t n = 0, allocated = 0;
        bool first = true;

        while (bpf_map_get_next_key(fd, first ? NULL : &key, &next) == 0) {
                if (n == allocated) {
                        size_t a = allocated ? allocated * 2 : 16;
                        uint64_t *p = reallocarray(ids, a, sizeof(*p));

                        if (!p) {
                                free(ids);
                                return -ENOMEM;
                        }
                        ids = p;
                        allocated = a;
                }
                ids[n++] = next;
                key = next;
                first = false;
        }
        if (n > 1)
                qsort(ids, n, sizeof(*ids), compare_u64);
        *ret = ids;
        *ret_n = n;
        return 0;
}

/* The sorted union of a and b, without duplicates. */
static int ids_union(const uint64_t *a, size_t na, const uint64_t *b, size_t nb, uint64_t **ret, size_t *ret_n) {
        uint64_t *u = malloc((na + nb + 1) * sizeof(*u));
        size_t n = 0, i = 0, j = 0;

        if (!u)
                return -ENOMEM;
        while (i < na || j < nb) {
                uint64_t x = j >= nb || (i < na && a[i] <= b[j]) ? a[i++] : b[j++];

                if (n == 0 || u[n - 1] != x)
                        u[n++] = x;
        }
        *ret = u;
        *ret_n = n;
        return 0;
}

typedef struct EmitContext {
        DeltaList *out;
        const SensorImpl *impl;
} EmitContext;

static int emit_stats_delta(uint64_t id, uint64_t key1, const uint64_t *delta, void *userdata) {
        EmitContext *c = userdata;
        CgroupSensorDelta *d = delta_list_push(c->out, id, c->impl->kind);

        if (!d)
                return -ENOMEM;
        c->impl->apply(delta, d);
        return 0;
}

typedef struct TopPreemptor {
        uint64_t victim;
        CgroupPreemptor top[SENSORS_TOP_PREEMPTORS];
} TopPreemptor;

typedef struct PairContext {
        TopPreemptor *top;
        size_t n, allocated;
} PairContext;

/* Pair deltas arrive sorted by (victim, aggressor): keep each victim's
 * largest. */
static int collect_pair_delta(uint64_t victim, uint64_t aggressor, const uint64_t *delta, void *userdata) {
        PairContext *c = userdata;
        TopPreemptor *t = c->n > 0 ? &c->top[c->n - 1] : NULL;

        if (t && t->victim == victim) {
                cgroup_preemptors_add(t->top, aggressor, delta[0]);
                return 0;
        }
        if (c->n == c->allocated) {
                size_t a = c->allocated ? c->allocated * 2 : 32;
                TopPreemptor *p = reallocarray(c->top, a, sizeof(*p));

                if (!p)
                        return -ENOMEM;
                c->top = p;
                c->allocated = a;
        }
        c->top[c->n] = (TopPreemptor) { .victim = victim };
        cgroup_preemptors_add(c->top[c->n++].top, aggressor, delta[0]);
        return 0;
}

static int compare_delta_id(const void *key, const void *elem) {
        uint64_t id = *(const uint64_t *) key, other = ((const CgroupSensorDelta *) elem)->cgroup_id;

        return id < other ? -1 : id > other;
}

static const CounterLayout pair_layout = {
        .value_size = sizeof(uint64_t),
        .n_u32 = 0,
        .u64_offset = 0,
        .n_u64 = 1,
};

/* The run queue's pair map: the top preemptor of each victim into its
 * entry (out[first..] holds this read's run-queue entries, sorted); pairs
 * idle since the last read are deleted, so the map holds only who preempts
 * whom lately. */
static int read_pairs(Sensors *s, SensorState *st, DeltaList *out, size_t first) {
        _cleanup_free_ TopPreemptor *top = NULL;
        PairContext pc = {};
        size_t n_rq = out->n - first, kept = 0;
        int r;

        r = map_read(s, st->h.pairs_fd, sizeof(struct runqueue_pair), &pair_layout, &st->cur_pairs);
        if (r < 0)
                return r;
        r = counter_table_deltas(&pair_layout, &st->cur_pairs, &st->prev_pairs, collect_pair_delta, &pc);
        top = pc.top;
        if (r < 0)
                return r;

        for (size_t i = 0; i < pc.n; i++) {
                CgroupSensorDelta *d = bsearch(&top[i].victim, out->v + first, n_rq, sizeof(*d), compare_delta_id);

                if (!d) {
                        d = delta_list_push(out, top[i].victim, SENSOR_RUNQUEUE);
                        if (!d)
                                return -ENOMEM;
                }
                memcpy(d->preemptors, top[i].top, sizeof(d->preemptors));
        }

        /* Delete idle pairs from the map and from what the next read
         * compares with: a pair that comes back starts from zero. */
        for (size_t i = 0; i < st->cur_pairs.n; i++) {
                uint64_t *c = counter_table_record(&st->cur_pairs, i);
                const uint64_t *p = counter_table_find(&st->prev_pairs, c[0], c[1]);

                if (p && p[2] == c[2]) {
                        struct runqueue_pair key = { .victim = c[0], .aggressor = c[1] };

                        (void) bpf_map_delete_elem(st->h.pairs_fd, &key);
                        continue;
                }
                if (kept != i)
                        memcpy(counter_table_record(&st->cur_pairs, kept), c,
                               counter_table_stride(&st->cur_pairs) * sizeof(uint64_t));
                kept++;
        }
        st->cur_pairs.n = kept;
        return 0;
}

/* Deletes the entries of ids (sorted) from the sensor's maps and from
 * cur (what the next read compares with). */
static void sensor_delete_ids(SensorState *st, const uint64_t *ids, size_t n, CounterTable *cur,
                              CounterTable *cur_pairs) {
        if (n == 0)
                return;
        for (size_t i = 0; i < n; i++)
                (void) bpf_map_delete_elem(st->h.stats_fd, &ids[i]);
        (void) counter_table_drop(cur, ids, n, false);
        if (st->h.pairs_fd < 0)
                return;
        for (size_t i = 0; i < cur_pairs->n; i++) {
                const uint64_t *c = counter_table_record(cur_pairs, i);
                struct runqueue_pair key = { .victim = c[0], .aggressor = c[1] };

                if (bsearch(&c[0], ids, n, sizeof(*ids), compare_u64) ||
                    bsearch(&c[1], ids, n, sizeof(*ids), compare_u64))
                        (void) bpf_map_delete_elem(st->h.pairs_fd, &key);
        }
        (void) counter_table_drop(cur_pairs, ids, n, true);
}

/* Stale in-flight requests are looked for every this many reads. */
#define INFLIGHT_SWEEP_READS 64

static uint64_t monotonic_nsec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static int sensor_read(Sensors *s, SensorState *st, DeltaList *out) {
        _cleanup_free_ uint64_t *removed = NULL, *gone = NULL;
        size_t n_removed = 0, n_gone = 0, first = out->n;
        EmitContext ec = { .out = out, .impl = st->impl };
        int r;

        /* Removed cgroups first: one removed after this is in the next
         * read's list, and its last counts with it. */
        r = map_keys_read(st->h.removed_fd, &removed, &n_removed);
        if (r < 0)
                return r;
        r = map_read(s, st->h.stats_fd, sizeof(uint64_t), &st->impl->layout, &st->cur);
        if (r < 0)
                return r;
        r = counter_table_deltas(&st->impl->layout, &st->cur, &st->prev, emit_stats_delta, &ec);
        if (r < 0)
                return r;
        if (st->h.pairs_fd >= 0) {
                r = read_pairs(s, st, out, first);
                if (r < 0)
                        return r;
        }

        /* A removed cgroup's entries go now and once more at the next read
         * (an exiting task may still be charged to it after the rmdir). */
        r = ids_union(removed, n_removed, st->pending, st->n_pending, &gone, &n_gone);
        if (r < 0)
                return r;
        sensor_delete_ids(st, gone, n_gone, &st->cur, &st->cur_pairs);
        for (size_t i = 0; i < n_removed; i++)
                (void) bpf_map_delete_elem(st->h.removed_fd, &removed[i]);
        free(st->pending);
        st->pending = TAKE_PTR(removed);
        st->n_pending = n_removed;

        counter_table_swap(&st->prev, &st->cur);
        if (st->h.pairs_fd >= 0)
                counter_table_swap(&st->prev_pairs, &st->cur_pairs);

        if (st->h.inflight_fd >= 0 && s->reads % INFLIGHT_SWEEP_READS == INFLIGHT_SWEEP_READS - 1) {
                r = block_io_sweep_inflight(st->h.inflight_fd, monotonic_nsec());
                if (r > 0)
                        s->user_dropped += (uint64_t) r;
        }
        return 0;
}

int sensors_read(Sensors *s, CgroupSensorDelta **ret_deltas, size_t *ret_n) {
        DeltaList out = {};
        int r;

        for (int i = 0; i < _SENSOR_MAX; i++) {
                if (!s->sensor[i].up)
                        continue;
                r = sensor_read(s, &s->sensor[i], &out);
                if (r < 0) {
                        free(out.v);
                        return r;
                }
        }
        s->reads++;
        delta_list_finish(&out, s->mode);
        *ret_deltas = out.v;
        *ret_n = out.n;
        return 0;
}

void sensors_forget(Sensors *s, uint64_t cgroup_id) {
        if (!s)
                return;
        for (int i = 0; i < _SENSOR_MAX; i++)
                if (s->sensor[i].up)
                        sensor_delete_ids(&s->sensor[i], &cgroup_id, 1, &s->sensor[i].prev,
                                          &s->sensor[i].prev_pairs);
}

/* Runs of our programs the kernel skipped: a program does not nest on one
 * CPU (a tracepoint hit from an interrupt while the same program runs). */
static uint64_t recursion_misses(const SensorState *st) {
        struct bpf_program *prog;
        uint64_t n = 0;

        bpf_object__for_each_program(prog, st->h.obj) {
                struct bpf_prog_info info = {};
                __u32 len = sizeof(info);

                if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0)
                        n += info.recursion_misses;
        }
        return n;
}

uint64_t sensors_dropped(const Sensors *s) {
        uint64_t n = 0;

        if (!s)
                return 0;
        for (int i = 0; i < _SENSOR_MAX; i++)
                if (s->sensor[i].up) {
                        if (s->sensor[i].h.dropped)
                                n += *s->sensor[i].h.dropped;
                        n += recursion_misses(&s->sensor[i]);
                }
        return n + s->user_dropped;
}

static int ids_append(uint32_t **ids, size_t *n, uint32_t id) {
        uint32_t *p = reallocarray(*ids, *n + 1, sizeof(*p));

        if (!p)
                return -ENOMEM;
        p[(*n)++] = id;
        *ids = p;
        return 0;
}

int sensors_object_ids(const Sensors *s, uint32_t **ret_prog_ids, size_t *ret_n_progs, uint32_t **ret_map_ids,
                       size_t *ret_n_maps) {
        _cleanup_free_ uint32_t *progs = NULL, *maps = NULL;
        size_t n_progs = 0, n_maps = 0;
        int r;

        for (int i = 0; i < _SENSOR_MAX; i++) {
                const SensorState *st = &s->sensor[i];
                struct bpf_program *prog;
                struct bpf_map *map;

                if (!st->up)
                        continue;
                bpf_object__for_each_program(prog, st->h.obj) {
                        struct bpf_prog_info info = {};
                        __u32 len = sizeof(info);

                        r = bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len);
                        if (r < 0)
                                return r;
                        r = ids_append(&progs, &n_progs, info.id);
                        if (r < 0)
                                return r;
                }
                bpf_object__for_each_map(map, st->h.obj) {
                        struct bpf_map_info info = {};
                        __u32 len = sizeof(info);

                        r = bpf_obj_get_info_by_fd(bpf_map__fd(map), &info, &len);
                        if (r < 0)
                                return r;
                        r = ids_append(&maps, &n_maps, info.id);
                        if (r < 0)
                                return r;
                }
        }
        *ret_prog_ids = TAKE_PTR(progs);
        *ret_n_progs = n_progs;
        *ret_map_ids = TAKE_PTR(maps);
        *ret_n_maps = n_maps;
        return 0;
}

int sensors_debug_map_ids(const Sensors *s, SensorKind k, uint64_t **ret_ids, size_t *ret_n) {
        if (!sensors_up(s, k))
                return -ENODEV;
        /* The removed map and the stats map have the same keys: the same
         * walk. */
        return map_keys_read(s->sensor[k].h.stats_fd, ret_ids, ret_n);
}

int sensors_debug_fill(Sensors *s, uint64_t first_id, unsigned n, uint64_t seed) {
        for (int i = 0; i < _SENSOR_MAX; i++) {
                const SensorState *st = &s->sensor[i];
                const CounterLayout *l = &st->impl->layout;
                size_t stride = counter_layout_stride(l);
                _cleanup_free_ uint8_t *values = NULL;

                if (!st->up)
                        continue;
                values = calloc(s->ncpus, stride);
                if (!values)
                        return -ENOMEM;
                for (unsigned j = 0; j < n; j++) {
                        uint64_t id = first_id + j;

                        for (size_t c = 0; c < s->ncpus; c++) {
                                uint8_t *v = values + c * stride;

                                for (size_t k = 0; k < l->n_u32; k++) {
                                        uint32_t x = (uint32_t) (seed + c + k + j);

                                        memcpy(v + k * sizeof(x), &x, sizeof(x));
                                }
                                for (size_t k = 0; k < l->n_u64; k++) {
                                        uint64_t x = seed * 1000 + c + k + j;

                                        memcpy(v + l->u64_offset + k * sizeof(x), &x, sizeof(x));
                                }
                        }
                        /* Maps that allocate on demand refill their
                         * caches asynchronously: a fast writer sees ENOMEM
                         * now and then. */
                        for (int attempt = 0;; attempt++) {
                                if (bpf_map_update_elem(st->h.stats_fd, &id, values, BPF_ANY) == 0)
                                        break;
                                if (errno != ENOMEM || attempt >= 100)
                                        return negative_errno();
                                (void) usleep(1000);
                        }
                }
        }
        return 0;
}

#else /* !NODEQOS_HAVE_BPF */

int sensors_open(const SensorsOptions *options, Sensors **ret) {
        Sensors *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->mode = options ? options->mode : CGROUP_MODE_V2;
        for (int i = 0; i < _SENSOR_MAX; i++)
                set_down(&s->sensor[i], "%s",
                         options && options->disabled[i] ? "disabled by configuration" : "built without BPF support");
        *ret = s;
        return 0;
}

Sensors *sensors_free(Sensors *s) {
        free(s);
        return NULL;
}

int sensors_read(Sensors *s, CgroupSensorDelta **ret_deltas, size_t *ret_n) {
        *ret_deltas = NULL;
        *ret_n = 0;
        return 0;
}

void sensors_forget(Sensors *s, uint64_t cgroup_id) {
}

uint64_t sensors_dropped(const Sensors *s) {
        return 0;
}

int sensors_object_ids(const Sensors *s, uint32_t **ret_prog_ids, size_t *ret_n_progs, uint32_t **ret_map_ids,
                       size_t *ret_n_maps) {
        *ret_prog_ids = *ret_map_ids = NULL;
        *ret_n_progs = *ret_n_maps = 0;
        return 0;
}

int sensors_debug_map_ids(const Sensors *s, SensorKind k, uint64_t **ret_ids, size_t *ret_n) {
        return -ENODEV;
}

int sensors_debug_fill(Sensors *s, uint64_t first_id, unsigned n, uint64_t seed) {
        return -EOPNOTSUPP;
}

#endif

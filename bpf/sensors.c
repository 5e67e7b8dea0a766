/* SPDX-License-Identifier: Apache-2.0 */
/* The sensors as one object: probing what this kernel and these privileges
 * allow and loading each sensor on its own (one that cannot load is down,
 * with a reason). Reading the maps into per-cgroup deltas is in
 * sensors-read.c; the kernel side of each sensor is in <kind>.bpf.c, its
 * loader in <kind>.c. */

#include "sensors.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent/macro.h"
#include "latency-histogram.h"
#include "sensor-state.h"
#include "sensor-types.h"

#if NODEQOS_HAVE_BPF
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "sensor-counters.h"
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

bool sensors_up(const Sensors *s, SensorKind k) {
        return s && k >= 0 && k < _SENSOR_MAX && s->sensor[k].up;
}

const char *sensors_down_reason(const Sensors *s, SensorKind k) {
        if (!s || k < 0 || k >= _SENSOR_MAX)
                return "no such sensor";
        return s->sensor[k].up ? NULL : s->sensor[k].reason;
}

void set_down(SensorState *st, const char *fmt, ...) {
        va_list ap;

        st->up = false;
        va_start(ap, fmt);
        (void) vsnprintf(st->reason, sizeof(st->reason), fmt, ap);
        va_end(ap);
}

#if NODEQOS_HAVE_BPF

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

#endif

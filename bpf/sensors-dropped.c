/* SPDX-License-Identifier: Apache-2.0 */
/* Drop counting: events the sensors could not count (the BPF side's own
 * count, runs of our programs the kernel skipped) and stale in-flight block
 * requests the reader deletes. */

#include <stdint.h>
#include <time.h>

#include "sensor-state.h"
#include "sensors.h"

#if NODEQOS_HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sensor-impl.h"

/* Stale in-flight requests are looked for every this many reads. */
#define INFLIGHT_SWEEP_READS 64

static uint64_t monotonic_nsec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

void sensor_sweep_inflight(Sensors *s, SensorState *st) {
        int r;

        if (st->h.inflight_fd >= 0 && s->reads % INFLIGHT_SWEEP_READS == INFLIGHT_SWEEP_READS - 1) {
                r = block_io_sweep_inflight(st->h.inflight_fd, monotonic_nsec());
                if (r > 0)
                        s->user_dropped += (uint64_t) r;
        }
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

#else /* !NODEQOS_HAVE_BPF */

uint64_t sensors_dropped(const Sensors *s) {
        return 0;
}

#endif

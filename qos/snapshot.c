/* SPDX-License-Identifier: Apache-2.0 */
#include "snapshot.h"

#include <stdlib.h>

#include "cgroup-reader.h"

NodeSnapshot *node_snapshot_ref(NodeSnapshot *s) {
        if (s)
                atomic_fetch_add(&s->refcount, 1);
        return s;
}

NodeSnapshot *node_snapshot_unref(NodeSnapshot *s) {
        if (!s || atomic_fetch_sub(&s->refcount, 1) > 1)
                return NULL;
        for (size_t i = 0; i < s->n_workloads; i++) {
                WorkloadSnapshot *w = &s->workloads[i];

                for (size_t j = 0; j < w->n_containers; j++)
                        free(w->containers[j].cgroup);
                free(w->containers);
                free(w->cgroup);
        }
        free(s->workloads);
        free(s);
        return NULL;
}

/* Counters only grow; a decrease means the cgroup was recreated under the
 * same name between two samples: no rate rather than a negative one. */
static bool delta(uint64_t prev, uint64_t cur, uint64_t *ret) {
        if (cur < prev)
                return false;
        *ret = cur - prev;
        return true;
}

/* Stall time per wall time between two PSI totals, 0..1. The kernel counts
 * stalls per CPU and folds them, so a delta may slightly exceed the wall
 * time that passed between two reads: clamped. */
static bool psi_ratio(uint64_t prev_usec, uint64_t cur_usec, uint64_t dt_usec, double *ret) {
        uint64_t d;

        if (!delta(prev_usec, cur_usec, &d))
                return false;
        *ret = d >= dt_usec ? 1.0 : (double) d / (double) dt_usec;
        return true;
}

void resource_usage_from_samples(const CgroupSample *prev, const CgroupSample *cur, uint64_t dt_usec,
                                 ResourceUsage *ret) {
        ResourceUsage u = {
                .has_cpu = cur->has_cpu,
                .has_memory = cur->has_memory,
                .has_io = cur->has_io,
                .has_psi = cur->has_psi,
                .memory_usage_bytes = cur->memory_usage_bytes,
                .memory_working_set_bytes = cur->memory_working_set_bytes,
                .memory_unreclaimable_bytes = cur->memory_unreclaimable_bytes,
                .cpu = cur->cpu,
                .io = cur->io,
                .cpu_psi = cur->cpu_psi,
                .memory_psi = cur->memory_psi,
                .io_psi = cur->io_psi,
        };
        double seconds = (double) dt_usec / 1e6;
        uint64_t d, periods, throttled;
        bool ok = prev && dt_usec > 0;

        if (ok && cur->has_cpu && prev->has_cpu) {
                ok = delta(prev->cpu.usage_usec, cur->cpu.usage_usec, &d);
                if (ok)
                        u.cpu_millicores = (double) d / (double) dt_usec * 1000.0;
                if (ok && delta(prev->cpu.nr_periods, cur->cpu.nr_periods, &periods) &&
                    delta(prev->cpu.nr_throttled, cur->cpu.nr_throttled, &throttled) && periods > 0)
                        u.cpu_throttled_ratio = throttled > periods ? 1.0 : (double) throttled / (double) periods;
        }
        if (ok && cur->has_io && prev->has_io) {
                uint64_t rb, wb, ro, wo;

                ok = delta(prev->io.read_bytes, cur->io.read_bytes, &rb) &&
                     delta(prev->io.write_bytes, cur->io.write_bytes, &wb) &&
                     delta(prev->io.read_ops, cur->io.read_ops, &ro) && delta(prev->io.write_ops, cur->io.write_ops, &wo);
                if (ok) {
                        u.io_read_bytes_per_sec = (double) rb / seconds;
                        u.io_write_bytes_per_sec = (double) wb / seconds;
                        u.io_read_ops_per_sec = (double) ro / seconds;
                        u.io_write_ops_per_sec = (double) wo / seconds;
                }
        }
        if (ok && cur->has_psi && prev->has_psi) {
                ok = psi_ratio(prev->cpu_psi.some.total_usec, cur->cpu_psi.some.total_usec, dt_usec,
                               &u.cpu_psi_some_ratio) &&
                     psi_ratio(prev->memory_psi.some.total_usec, cur->memory_psi.some.total_usec, dt_usec,
                               &u.memory_psi_some_ratio) &&
                     psi_ratio(prev->io_psi.some.total_usec, cur->io_psi.some.total_usec, dt_usec,
                               &u.io_psi_some_ratio);
                /* A cgroup's memory.pressure always has "full"; only the
                 * node's cpu file may lack it. */
                if (ok && cur->memory_psi.has_full && prev->memory_psi.has_full)
                        ok = psi_ratio(prev->memory_psi.full.total_usec, cur->memory_psi.full.total_usec, dt_usec,
                                       &u.memory_psi_full_ratio);
        }
        u.has_rates = ok;
        if (!ok) {
                u.cpu_millicores = u.cpu_throttled_ratio = 0;
                u.io_read_bytes_per_sec = u.io_write_bytes_per_sec = 0;
                u.io_read_ops_per_sec = u.io_write_ops_per_sec = 0;
                u.cpu_psi_some_ratio = u.memory_psi_some_ratio = u.memory_psi_full_ratio = u.io_psi_some_ratio = 0;
        }
        *ret = u;
}

/* SPDX-License-Identifier: Apache-2.0 */
#include "cgroup-write-stats.h"

#include <errno.h>
#include <stddef.h>

static const char *const knob_names[_CGROUP_KNOB_MAX] = {
        [CGROUP_KNOB_CPU_QUOTA] = "cpu_quota",
        [CGROUP_KNOB_CPU_WEIGHT] = "cpu_weight",
        [CGROUP_KNOB_CPU_IDLE] = "cpu_idle",
        [CGROUP_KNOB_CPUSET_CPUS] = "cpuset_cpus",
        [CGROUP_KNOB_CPUSET_MEMS] = "cpuset_mems",
        [CGROUP_KNOB_MEMORY_HIGH] = "memory_high",
        [CGROUP_KNOB_MEMORY_MAX] = "memory_max",
        [CGROUP_KNOB_IO_MAX] = "io_max",
        [CGROUP_KNOB_IO_WEIGHT] = "io_weight",
};

static const char *const result_names[_CGROUP_WRITE_RESULT_MAX] = {
        [CGROUP_WRITE_WRITTEN] = "written",
        [CGROUP_WRITE_UNCHANGED] = "unchanged",
        [CGROUP_WRITE_REFUSED] = "refused",
        [CGROUP_WRITE_GONE] = "gone",
        [CGROUP_WRITE_FAILED] = "failed",
};

const char *cgroup_knob_to_string(CgroupKnob k) {
        return (unsigned) k < _CGROUP_KNOB_MAX ? knob_names[k] : NULL;
}

const char *cgroup_write_result_to_string(CgroupWriteResult r) {
        return (unsigned) r < _CGROUP_WRITE_RESULT_MAX ? result_names[r] : NULL;
}

CgroupWriteResult cgroup_write_result_of(int r, bool refused) {
        if (refused)
                return CGROUP_WRITE_REFUSED;
        if (r == -ENOENT)
                return CGROUP_WRITE_GONE;
        if (r < 0)
                return CGROUP_WRITE_FAILED;
        return r > 0 ? CGROUP_WRITE_WRITTEN : CGROUP_WRITE_UNCHANGED;
}

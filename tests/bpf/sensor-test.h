/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the sensor tests on the real kernel share: a throwaway cgroup tree
 * in every hierarchy (tests/lib/cgroup-test-tree.h), the sensors opened for
 * this machine's layout, workloads started inside the tree's cgroups and
 * killed at teardown, and the deltas of one cgroup summed over reads.
 *
 * Functions here return -errno (no cmocka): the tests assert. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bpf/sensors.h"
#include "qos/cgroup-layout.h"
#include "tests/lib/cgroup-test-tree.h"

#define SENSOR_TEST_MAX_CHILDREN 16

typedef struct SensorTest {
        CgroupLayout layout;
        CgroupTestTree tree;
        const char *const *rels; /* the tree's cgroups (static strings) */
        Sensors *sensors;
        pid_t children[SENSOR_TEST_MAX_CHILDREN];
        size_t n_children;
} SensorTest;

/* 77: meson's "skipped". */
#define EXIT_TEST_SKIP 77

/* Exits with EXIT_TEST_SKIP unless root. Detects the layout, creates the
 * tree nodeqos-test-<what>-<pid> with the cgroups rels (NULL-terminated,
 * kept: static strings),
 * and opens the sensors of kinds_mask (bits 1 << SensorKind) only. A sensor
 * down because the kernel lacks something, or a build without BPF, also
 * skips; down for any other reason fails (-EIO, the reason printed).
 * Returns 0 or -errno; on failure nothing is left behind. */
int sensor_test_setup(SensorTest *t, const char *what, const char *const *rels, unsigned kinds_mask);

/* Kills every process in the tree and every child started, reaps them,
 * frees the sensors and removes the tree. Returns the first -errno. */
int sensor_test_teardown(SensorTest *t);

/* The id the sensor of kind reports for rel on this layout: the inode of
 * the cgroup directory in the sensor's hierarchy (v2: the unified one). */
int sensor_test_cgroup_id(const SensorTest *t, SensorKind kind, const char *rel, uint64_t *ret);

/* The hierarchy (mount) the sensor of kind reads on this layout. */
const char *sensor_test_mount(const SensorTest *t, SensorKind kind);

/* Forks a child that dies with us, moves itself into rel in every
 * hierarchy, then runs fn(arg) and exits with its return, or, fn NULL,
 * execvp(argv). With start_fd >= 0 it first waits for one byte on it (so
 * a tracer can be pointed at its pid). Returns the pid or -errno. */
pid_t sensor_test_spawn(SensorTest *t, const char *rel, int start_fd, int (*fn)(void *), void *arg,
                        char *const argv[]);

/* Waits for pid (started by sensor_test_spawn) and returns its exit status
 * (128 + signal if killed), or -errno. */
int sensor_test_wait(SensorTest *t, pid_t pid);

/* SIGKILLs every process in rel of the tree (the primary hierarchy's
 * cgroup.procs) until none is left, and reaps our children among them.
 * Returns 0 or -errno. */
int sensor_test_kill_cgroup(SensorTest *t, const char *rel);

/* Reads the sensors once and adds what they report for kind and each
 * ids[i] to accs[i] (whose kinds gets kind's bit if there was an entry).
 * Returns 0 or -errno. */
int sensor_test_read_into(SensorTest *t, SensorKind kind, const uint64_t *ids, size_t n_ids,
                          CgroupSensorDelta *accs);

/* Sleeps for msec milliseconds. */
void sensor_test_sleep_ms(unsigned msec);

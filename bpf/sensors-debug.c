/* SPDX-License-Identifier: Apache-2.0 */
/* For the tests and benchmarks only (sensors-private.h): the kernel ids of
 * the sensors' programs and maps, a stats map's keys, and fake entries
 * written into the stats maps. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/macro.h"
#include "sensor-state.h"
#include "sensors-private.h"

#if NODEQOS_HAVE_BPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sensor-counters.h"
#include "sensor-impl.h"

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

/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the QRM checkpoint parser (plugins/qrm-checkpoint.h) on a fixed
 * node: CPUs 0-7 on two NUMA nodes, CPU 0 reserved. The first byte picks
 * how the rest is fed:
 *   'R'   as it is (header, body and checksum line all come from the input)
 *   other the rest is the header and body; the right checksum line is
 *         appended, so mutations reach the body parser instead of dying
 *         at the checksum.
 * Invariants: every refusal has one of the documented codes and leaves the
 * state empty; an accepted state satisfies qrm_state_verify(), writes a
 * checkpoint that reads back, and that reads back to the same bytes. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "plugins/cpu-topology.h"
#include "plugins/qrm-checkpoint.h"
#include "plugins/qrm-state.h"

/* The parser's cost is linear; larger inputs only slow the fuzzer. */
#define FUZZ_CHECKPOINT_MAX_BYTES (64 * 1024)

static CpuTopology *topology(void) {
        static CpuTopology *t;
        CpuMask online, nodes, node_cpus[2];
        uint64_t mem[2] = { UINT64_C(8) << 30, UINT64_C(8) << 30 };

        if (t)
                return t;
        FUZZ_CHECK(cpu_list_parse_string("0-7", &online) == 0);
        FUZZ_CHECK(cpu_list_parse_string("0-1", &nodes) == 0);
        FUZZ_CHECK(cpu_list_parse_string("0-3", &node_cpus[0]) == 0);
        FUZZ_CHECK(cpu_list_parse_string("4-7", &node_cpus[1]) == 0);
        FUZZ_CHECK(cpu_topology_new(&online, &nodes, node_cpus, mem, 2, &t) == 0);
        return t;
}

static QrmState *new_state(void) {
        CpuMask reserved;
        QrmState *s = NULL;

        FUZZ_CHECK(cpu_list_parse_string("0", &reserved) == 0);
        FUZZ_CHECK(qrm_state_new(&(QrmStateParams) { .topology = topology(), .reserved_cpus = &reserved }, &s, NULL) == 0);
        return s;
}

static bool code_documented(int r) {
        return r == -EBADMSG || r == -EPROTONOSUPPORT || r == -ESTALE || r == -E2BIG || r == -ENOMEM;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        QrmState *s, *again;
        PluginError err = {};
        char *text, *out = NULL, *out2 = NULL;
        size_t len, out_size, out2_size;
        int r;

        if (size < 1 || size > FUZZ_CHECKPOINT_MAX_BYTES)
                return 0;

        text = malloc(size + 32);
        if (!text)
                return 0;
        len = size - 1;
        memcpy(text, data + 1, len);
        if (data[0] != 'R')
                len += (size_t) sprintf(text + len, "checksum %016" PRIx64 "\n", qrm_checkpoint_checksum(text, len));

        s = new_state();
        r = qrm_checkpoint_parse(s, text, len, &err);
        FUZZ_CHECK(qrm_state_verify(s) == 0);
        if (r < 0) {
                FUZZ_CHECK(code_documented(r));
                FUZZ_CHECK(err.error == r && err.message[0]);
                FUZZ_CHECK(qrm_state_n_pods(s) == 0 && qrm_state_n_containers(s) == 0);
                FUZZ_CHECK(qrm_state_get_reclaimed_cpus(s) == QRM_RECLAIMED_CPUS_ALL);
                goto done;
        }
        FUZZ_CHECK(r == 0);

        FUZZ_CHECK(qrm_checkpoint_format(s, 1, &out, &out_size) == 0);
        again = new_state();
        r = qrm_checkpoint_parse(again, out, out_size, &err);
        if (r < 0)
                fprintf(stderr, "fuzz-qrm-checkpoint: own output refused: %s\n%.*s", err.message, (int) out_size, out);
        FUZZ_CHECK(r == 0);
        FUZZ_CHECK(qrm_state_n_containers(again) == qrm_state_n_containers(s));
        FUZZ_CHECK(qrm_checkpoint_format(again, 1, &out2, &out2_size) == 0);
        FUZZ_CHECK(out_size == out2_size && memcmp(out, out2, out_size) == 0);
        qrm_state_free(again);

done:
        qrm_state_free(s);
        free(out);
        free(out2);
        free(text);
        return 0;
}

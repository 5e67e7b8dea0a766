/* SPDX-License-Identifier: Apache-2.0 */
/* ReportAppLatency, GetReclaimable and GetStatus's app signals through the
 * admin method table, as the daemon's gRPC thread runs them. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/api-admin.h"
#include "agent/macro.h"
#include "nodeqos_admin.pb-c.h"

typedef struct Fixture {
        RpcMethodTable table;
        AdminService admin;
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        for (size_t i = 0; i < admin_n_services; i++)
                assert_int_equal(rpc_method_table_add_service(&f->table, admin_services[i]), 0);
        assert_int_equal(app_signals_new(&f->admin.app_signals), 0);
        assert_int_equal(admin_service_install(&f->table, &f->admin), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        rpc_method_table_done(&f->table);
        app_signals_free(f->admin.app_signals);
        free(f);
        return 0;
}

/* Runs one call; returns the status and, on OK, the unpacked response
 * (freed by the caller with protobuf_c_message_free_unpacked). */
static grpc_status_code run(Fixture *f, const char *path, const ProtobufCMessage *req, ApiState *st,
                            ProtobufCMessage **ret, char *ret_message, size_t message_size) {
        _cleanup_(rpc_call_freep) RpcCall *call = NULL;
        const RpcMethod *m = rpc_method_table_find(&f->table, path, strlen(path));
        size_t len = protobuf_c_message_get_packed_size(req), out_len = 0;
        uint8_t buf[4096], *out = NULL;
        grpc_status_code status;

        assert_non_null(m);
        assert_true(len <= sizeof(buf));
        protobuf_c_message_pack(req, buf);
        assert_int_equal(rpc_call_new(m, "admin", &call), 0);
        status = rpc_call_decode(call, buf, len);
        if (status == GRPC_STATUS_OK)
                status = rpc_call_answer(call, st, &out, &out_len);
        if (ret_message)
                snprintf(ret_message, message_size, "%s", rpc_call_status_message(call));
        if (status == GRPC_STATUS_OK && ret) {
                *ret = protobuf_c_message_unpack(m->output, NULL, out_len, out);
                assert_non_null(*ret);
        }
        free(out);
        return status;
}

static void test_report(void **state) {
        Fixture *f = *state;
        char long_uid[200];
        const struct {
                const char *uid, *app;
                double latency, objective, quantile;
                grpc_status_code want;
                const char *want_in_message;
        } cases[] = {
                { "aaaa-1", "web", 800, 1000, 0.99, GRPC_STATUS_OK, NULL },
                { "aaaa-1", "", 1200, 1000, 1.0, GRPC_STATUS_OK, NULL }, /* replaces; quantile 1 = max */
                { "bbbb-2", "", 10, 20, 0.5, GRPC_STATUS_OK, NULL },
                { "", "web", 800, 1000, 0.99, GRPC_STATUS_INVALID_ARGUMENT, "pod_uid is empty" },
                { long_uid, "web", 800, 1000, 0.99, GRPC_STATUS_INVALID_ARGUMENT, "longer than" },
                { "a b", "web", 800, 1000, 0.99, GRPC_STATUS_INVALID_ARGUMENT, "malformed" },
                { "x/../y", "web", 800, 1000, 0.99, GRPC_STATUS_INVALID_ARGUMENT, "malformed" },
                { "cccc", "web", 0, 1000, 0.99, GRPC_STATUS_INVALID_ARGUMENT, "latency_us" },
                { "cccc", "web", -1, 1000, 0.99, GRPC_STATUS_INVALID_ARGUMENT, "latency_us" },
                { "cccc", "web", NAN, 1000, 0.99, GRPC_STATUS_INVALID_ARGUMENT, "latency_us" },
                { "cccc", "web", INFINITY, 1000, 0.99, GRPC_STATUS_INVALID_ARGUMENT, "latency_us" },
                { "cccc", "web", 800, 0, 0.99, GRPC_STATUS_INVALID_ARGUMENT, "objective_us" },
                { "cccc", "web", 800, -INFINITY, 0.99, GRPC_STATUS_INVALID_ARGUMENT, "objective_us" },
                { "cccc", "web", 800, 1000, 0, GRPC_STATUS_INVALID_ARGUMENT, "quantile" },
                { "cccc", "web", 800, 1000, -0.5, GRPC_STATUS_INVALID_ARGUMENT, "quantile" },
                { "cccc", "web", 800, 1000, 1.0001, GRPC_STATUS_INVALID_ARGUMENT, "quantile" },
                { "cccc", "web", 800, 1000, NAN, GRPC_STATUS_INVALID_ARGUMENT, "quantile" },
        };
        Nodeqos__V1__Status *st = NULL;
        Nodeqos__V1__GetStatusRequest sreq = NODEQOS__V1__GET_STATUS_REQUEST__INIT;
        ApiState *state_published = api_state_new();

        memset(long_uid, 'a', sizeof(long_uid) - 1);
        long_uid[sizeof(long_uid) - 1] = 0;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Nodeqos__V1__ReportAppLatencyRequest req = NODEQOS__V1__REPORT_APP_LATENCY_REQUEST__INIT;
                char message[256];
                grpc_status_code s;

                req.pod_uid = (char *) cases[i].uid;
                req.app = (char *) cases[i].app;
                req.latency_us = cases[i].latency;
                req.objective_us = cases[i].objective;
                req.quantile = cases[i].quantile;
                s = run(f, "/nodeqos.v1.Admin/ReportAppLatency", &req.base, NULL, NULL, message, sizeof(message));
                if (s != cases[i].want || (cases[i].want_in_message && !strstr(message, cases[i].want_in_message)))
                        print_error("case %zu: %s \"%s\"\n", i, rpc_status_to_string(s), message);
                assert_int_equal(s, cases[i].want);
                if (cases[i].want_in_message)
                        assert_non_null(strstr(message, cases[i].want_in_message));
        }

        /* GetStatus shows the two pods' latest reports. */
        assert_non_null(state_published);
        assert_int_equal(run(f, "/nodeqos.v1.Admin/GetStatus", &sreq.base, state_published, (ProtobufCMessage **) &st,
                             NULL, 0),
                         GRPC_STATUS_OK);
        assert_int_equal(st->n_app_signals, 2);
        for (size_t i = 0; i < st->n_app_signals; i++) {
                const Nodeqos__V1__AppSignal *a = st->app_signals[i];

                if (streq_ptr(a->pod_uid, "aaaa-1"))
                        assert_true(a->latency_us == 1200 && a->objective_us == 1000 && fabs(a->slack + 0.2) < 1e-12);
                else {
                        assert_string_equal(a->pod_uid, "bbbb-2");
                        assert_true(a->latency_us == 10 && a->objective_us == 20 && fabs(a->slack - 0.5) < 1e-12);
                }
                assert_true(a->age_ms < 5000);
        }
        protobuf_c_message_free_unpacked(&st->base, NULL);
        api_state_unref(state_published);
}

static void test_reclaimable(void **state) {
        Fixture *f = *state;
        Nodeqos__V1__GetReclaimableRequest req = NODEQOS__V1__GET_RECLAIMABLE_REQUEST__INIT;
        Nodeqos__V1__GetReclaimableResponse *resp = NULL;
        ApiState *st = api_state_new();
        char message[256];

        assert_non_null(st);
        /* Nothing published: UNAVAILABLE. */
        assert_int_equal(run(f, "/nodeqos.v1.Admin/GetReclaimable", &req.base, NULL, NULL, message, sizeof(message)),
                         GRPC_STATUS_UNAVAILABLE);
        /* Published, but no estimate known: UNAVAILABLE, not zeros. */
        st->tick = 42;
        assert_int_equal(run(f, "/nodeqos.v1.Admin/GetReclaimable", &req.base, st, NULL, message, sizeof(message)),
                         GRPC_STATUS_UNAVAILABLE);
        assert_non_null(strstr(message, "no reclaimable estimate"));

        /* CPU and memory known, IO not. */
        st->resources[RESOURCE_CPU].budget_unit = "millicores";
        st->resources[RESOURCE_MEMORY].budget_unit = "bytes";
        st->reclaimable[RESOURCE_CPU] = (ApiReclaimable) {
                .known = true, .capacity = 2000, .ls_peak = 650, .reserve = 100, .reclaimable = 1250 };
        st->reclaimable[RESOURCE_MEMORY] = (ApiReclaimable) {
                .known = true, .capacity = 8e9, .ls_peak = 5e9, .reserve = 1e9, .reclaimable = 2e9 };
        st->reclaimable[RESOURCE_IO] = (ApiReclaimable) { .known = false, .reclaimable = 123 };
        assert_int_equal(run(f, "/nodeqos.v1.Admin/GetReclaimable", &req.base, st, (ProtobufCMessage **) &resp, NULL, 0),
                         GRPC_STATUS_OK);
        assert_int_equal(resp->tick, 42);
        assert_true(resp->cpu_millicores == 1250);
        assert_int_equal(resp->memory_bytes, 2000000000ULL);
        assert_true(resp->io_bytes_per_second == 0); /* not known: not reported */
        assert_int_equal(resp->n_resources, 2);
        assert_string_equal(resp->resources[0]->resource, "cpu");
        assert_string_equal(resp->resources[0]->unit, "millicores");
        assert_true(resp->resources[0]->capacity == 2000 && resp->resources[0]->ls_peak == 650 &&
                    resp->resources[0]->reserve == 100 && resp->resources[0]->reclaimable == 1250);
        assert_string_equal(resp->resources[1]->resource, "memory");
        assert_string_equal(resp->resources[1]->unit, "bytes");
        assert_true(resp->resources[1]->reclaimable == 2e9);
        protobuf_c_message_free_unpacked(&resp->base, NULL);
        api_state_unref(st);
}

static void test_no_table(void **state) {
        RpcMethodTable t = {};
        AdminService a = {};
        Fixture f = {};
        Nodeqos__V1__ReportAppLatencyRequest req = NODEQOS__V1__REPORT_APP_LATENCY_REQUEST__INIT;

        /* Without a table ReportAppLatency is not served (never a crash). */
        for (size_t i = 0; i < admin_n_services; i++)
                assert_int_equal(rpc_method_table_add_service(&t, admin_services[i]), 0);
        assert_int_equal(admin_service_install(&t, &a), 0);
        f.table = t;
        req.pod_uid = (char *) "u";
        req.latency_us = req.objective_us = req.quantile = 1;
        assert_int_equal(run(&f, "/nodeqos.v1.Admin/ReportAppLatency", &req.base, NULL, NULL, NULL, 0),
                         GRPC_STATUS_UNIMPLEMENTED);
        rpc_method_table_done(&t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_report, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reclaimable, setup, teardown),
                cmocka_unit_test(test_no_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

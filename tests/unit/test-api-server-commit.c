/* SPDX-License-Identifier: Apache-2.0 */
/* Group commit of the calls answered on the event loop (api-server.h,
 * ApiCommitHook): calls queued together run all their handlers, then the
 * hook once, and only then are answered; a failed hook turns the batch's
 * OK answers into UNAVAILABLE; a batch of failures has no commit. Then the
 * plugin service's hook over real QRM calls: the checkpoint is written
 * when the state changed and left alone when it did not.
 *
 * The calls come from a gRPC C core client in this process, started all
 * at once; the test waits until the server has queued every one of them
 * before it lets the loop run, so they form one batch. */

#include <errno.h>
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "api-kubelet.h"
#include "api-plugins.h"
#include "api-server-private.h"
#include "instance-lock.h"
#include "macro.h"
#include "plugins/qrm-checkpoint.h"
#include "resourceplugin.pb-c.h"

#define ALLOCATE "/resourceplugin.v1alpha1.ResourcePlugin/Allocate"
#define HINTS "/resourceplugin.v1alpha1.ResourcePlugin/GetTopologyHints"
#define CALLS_MAX 8
/* How long the hook watches the client for an early answer: a reply sent
 * before the hook reaches the client in far less on a unix socket. */
#define EARLY_ANSWER_WAIT_MSEC 200
#define WAIT_MSEC 5000

/* What the test's handler and hook saw, in order. */
typedef struct Recorder {
        unsigned handlers_run;
        unsigned hook_runs;
        unsigned handlers_before_hook;
        bool answer_before_hook;
        int hook_result;
        grpc_completion_queue *client_cq; /* watched by the hook */
} Recorder;

typedef struct ClientCall {
        grpc_call *call;
        grpc_metadata_array initial_md, trailing_md;
        grpc_byte_buffer *send, *recv;
        grpc_slice details;
        grpc_status_code status;
        bool done;
} ClientCall;

typedef struct Fixture {
        char dir[64];
        char socket[128];
        sd_event *event;
        ApiStateBox box;
        int lock_fd;
        ApiServer *server;
        grpc_channel *channel;
        grpc_completion_queue *cq;
} Fixture;

static gpr_timespec in_msec(long msec) {
        return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(msec, GPR_TIMESPAN));
}

/* ---- the server side ---- */

/* Fails a call whose pod UID starts with "fail", answers the others. */
static int recording_handler(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response,
                             void *userdata) {
        const Resourceplugin__V1alpha1__ResourceRequest *req = (const void *) request;
        Recorder *rec = userdata;

        rec->handlers_run++;
        if (strncmp(req->pod_uid, "fail", 4) == 0)
                return rpc_fail(call, -EINVAL, "refused by the test");
        return 0;
}

static int recording_hook(void *userdata) {
        Recorder *rec = userdata;
        grpc_event ev;

        rec->hook_runs++;
        rec->handlers_before_hook = rec->handlers_run;
        /* Nothing of the batch may be on its way yet. */
        ev = grpc_completion_queue_next(rec->client_cq, in_msec(EARLY_ANSWER_WAIT_MSEC), NULL);
        if (ev.type == GRPC_OP_COMPLETE) {
                rec->answer_before_hook = true;
                ((ClientCall *) ev.tag)->done = true;
        }
        return rec->hook_result;
}

static int fixture_setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        char run[128];

        if (!f)
                return -1;
        strcpy(f->dir, "/tmp/nodeqos-test-commit-XXXXXX");
        if (!mkdtemp(f->dir))
                return -1;
        snprintf(f->socket, sizeof(f->socket), "%s/cpu.sock", f->dir);
        snprintf(run, sizeof(run), "%s/run", f->dir);
        f->lock_fd = instance_lock_acquire(run, NULL);
        if (f->lock_fd < 0 || sd_event_new(&f->event) < 0)
                return -1;
        api_state_box_init(&f->box);
        if (api_server_new(&(ApiServerParams) { .event = f->event, .instance_lock_fd = f->lock_fd, .states = &f->box },
                           &f->server) < 0)
                return -1;
        *state = f;
        return 0;
}

static int fixture_teardown(void **state) {
        Fixture *f = *state;
        char cmd[128];

        if (f->channel)
                grpc_channel_destroy(f->channel);
        if (f->cq) {
                grpc_completion_queue_shutdown(f->cq);
                while (grpc_completion_queue_next(f->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
                       GRPC_QUEUE_SHUTDOWN)
                        ;
                grpc_completion_queue_destroy(f->cq);
        }
        api_server_free(f->server);
        api_state_box_done(&f->box);
        sd_event_unref(f->event);
        close(f->lock_fd);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
        free(f);
        return system(cmd) == 0 ? 0 : -1;
}

/* The cpu plugin endpoint, for its handlers to be set. */
static ApiEndpoint *add_cpu_endpoint(Fixture *f) {
        ApiEndpoint *e = NULL;

        assert_int_equal(api_server_add_endpoint(f->server, "cpu", f->socket, kubelet_plugin_services,
                                                 kubelet_plugin_n_services, &e),
                         0);
        return e;
}

/* Starts the server and opens a client channel to it. */
static void connect_client(Fixture *f) {
        grpc_channel_credentials *creds = grpc_insecure_credentials_create();
        char target[160];

        assert_int_equal(api_server_start(f->server, NULL), 0);
        snprintf(target, sizeof(target), "unix:%s", f->socket);
        f->channel = grpc_channel_create(target, creds, NULL);
        grpc_channel_credentials_release(creds);
        f->cq = grpc_completion_queue_create_for_next(NULL);
        assert_non_null(f->channel);
}

/* ---- the client side ---- */

static void call_start(Fixture *f, ClientCall *c, const char *method, const char *pod_uid) {
        Resourceplugin__V1alpha1__ResourceRequest req = RESOURCEPLUGIN__V1ALPHA1__RESOURCE_REQUEST__INIT;
        Resourceplugin__V1alpha1__ResourceRequest__ResourceRequestsEntry cpu =
                RESOURCEPLUGIN__V1ALPHA1__RESOURCE_REQUEST__RESOURCE_REQUESTS_ENTRY__INIT;
        Resourceplugin__V1alpha1__ResourceRequest__AnnotationsEntry qos =
                RESOURCEPLUGIN__V1ALPHA1__RESOURCE_REQUEST__ANNOTATIONS_ENTRY__INIT;
        Resourceplugin__V1alpha1__ResourceRequest__ResourceRequestsEntry *cpus[] = { &cpu };
        Resourceplugin__V1alpha1__ResourceRequest__AnnotationsEntry *annotations[] = { &qos };
        grpc_op ops[6] = {};
        grpc_slice slice;

        req.pod_uid = (char *) pod_uid;
        req.pod_namespace = (char *) "default";
        req.pod_name = (char *) "pod";
        req.container_name = (char *) "app";
        req.container_type = RESOURCEPLUGIN__V1ALPHA1__CONTAINER_TYPE__MAIN;
        req.resource_name = (char *) "cpu";
        cpu.key = (char *) "cpu";
        cpu.value = 0.1;
        req.resource_requests = cpus;
        req.n_resource_requests = 1;
        qos.key = (char *) "katalyst.kubewharf.io/qos_level";
        qos.value = (char *) "shared_cores";
        req.annotations = annotations;
        req.n_annotations = 1;

        *c = (ClientCall) { .status = GRPC_STATUS_UNKNOWN, .details = grpc_empty_slice() };
        slice = grpc_slice_malloc(protobuf_c_message_get_packed_size(&req.base));
        protobuf_c_message_pack(&req.base, GRPC_SLICE_START_PTR(slice));
        c->send = grpc_raw_byte_buffer_create(&slice, 1);
        grpc_slice_unref(slice);
        grpc_metadata_array_init(&c->initial_md);
        grpc_metadata_array_init(&c->trailing_md);
        c->call = grpc_channel_create_call(f->channel, NULL, GRPC_PROPAGATE_DEFAULTS, f->cq,
                                           grpc_slice_from_static_string(method), NULL, in_msec(WAIT_MSEC), NULL);
        assert_non_null(c->call);

        ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
        ops[1].op = GRPC_OP_SEND_MESSAGE;
        ops[1].data.send_message.send_message = c->send;
        ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
        ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
        ops[3].data.recv_initial_metadata.recv_initial_metadata = &c->initial_md;
        ops[4].op = GRPC_OP_RECV_MESSAGE;
        ops[4].data.recv_message.recv_message = &c->recv;
        ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
        ops[5].data.recv_status_on_client.trailing_metadata = &c->trailing_md;
        ops[5].data.recv_status_on_client.status = &c->status;
        ops[5].data.recv_status_on_client.status_details = &c->details;
        assert_int_equal(grpc_call_start_batch(c->call, ops, ELEMENTSOF(ops), c, NULL), GRPC_CALL_OK);
}

static void call_done(ClientCall *c) {
        grpc_metadata_array_destroy(&c->initial_md);
        grpc_metadata_array_destroy(&c->trailing_md);
        grpc_byte_buffer_destroy(c->send);
        if (c->recv)
                grpc_byte_buffer_destroy(c->recv);
        grpc_slice_unref(c->details);
        grpc_call_unref(c->call);
}

static size_t queued_calls(ApiServer *s) {
        size_t n = 0;

        pthread_mutex_lock(&s->lock);
        for (ServerCall *c = s->queue_head; c; c = c->next)
                n++;
        pthread_mutex_unlock(&s->lock);
        return n;
}

/* Starts n calls, waits until the server has queued them all, runs the
 * loop once (one batch), and waits for every answer. */
static void batch(Fixture *f, ClientCall *calls, const char *const *methods, const char *const *uids, size_t n) {
        size_t answered = 0;

        for (size_t i = 0; i < n; i++)
                call_start(f, &calls[i], methods[i], uids[i]);
        for (int waited = 0; queued_calls(f->server) < n; waited++) {
                grpc_event ev;

                assert_true(waited < WAIT_MSEC);
                /* Drives the client's side of the connection meanwhile. */
                ev = grpc_completion_queue_next(f->cq, in_msec(1), NULL);
                assert_int_not_equal(ev.type, GRPC_OP_COMPLETE); /* nothing answered before the loop ran */
        }
        assert_true(sd_event_run(f->event, 1000 * 1000) > 0);
        assert_int_equal(queued_calls(f->server), 0);

        for (size_t i = 0; i < n; i++)
                answered += calls[i].done;
        while (answered < n) {
                grpc_event ev = grpc_completion_queue_next(f->cq, in_msec(WAIT_MSEC), NULL);

                assert_int_equal(ev.type, GRPC_OP_COMPLETE);
                ((ClientCall *) ev.tag)->done = true;
                answered++;
        }
}

/* ---- the server's batches ---- */

/* Allocate answered by the recording handler, the recording hook; started
 * and connected. */
static void serve_recorded(Fixture *f, Recorder *rec) {
        ApiEndpoint *e = add_cpu_endpoint(f);

        assert_int_equal(api_endpoint_handle(e, ALLOCATE, RPC_THREAD_LOOP, recording_handler, rec), 0);
        assert_int_equal(api_server_set_commit_hook(f->server, recording_hook, rec), 0);
        connect_client(f);
        rec->client_cq = f->cq;
}

static void test_hook_once_before_any_answer(void **state) {
        static const char *const methods[] = { ALLOCATE, ALLOCATE, ALLOCATE, ALLOCATE };
        static const char *const uids[] = { "pod-a", "pod-b", "fail-c", "pod-d" };
        static const struct {
                int hook_result;
                grpc_status_code want[4];
        } cases[] = {
                /* A failed handler keeps its status; the others are OK. */
                { 0, { GRPC_STATUS_OK, GRPC_STATUS_OK, GRPC_STATUS_INVALID_ARGUMENT, GRPC_STATUS_OK } },
                /* Not durable: no OK may go out. */
                { -EIO,
                  { GRPC_STATUS_UNAVAILABLE, GRPC_STATUS_UNAVAILABLE, GRPC_STATUS_INVALID_ARGUMENT,
                    GRPC_STATUS_UNAVAILABLE } },
        };
        Fixture *f = *state;
        Recorder rec = {};
        ClientCall calls[ELEMENTSOF(uids)];

        serve_recorded(f, &rec);
        assert_int_equal(api_server_set_commit_hook(f->server, recording_hook, &rec), -EBUSY);

        for (size_t k = 0; k < ELEMENTSOF(cases); k++) {
                rec = (Recorder) { .client_cq = f->cq, .hook_result = cases[k].hook_result };
                batch(f, calls, methods, uids, ELEMENTSOF(uids));

                assert_int_equal(rec.hook_runs, 1);
                assert_int_equal(rec.handlers_before_hook, ELEMENTSOF(uids));
                assert_false(rec.answer_before_hook);
                for (size_t i = 0; i < ELEMENTSOF(uids); i++) {
                        assert_int_equal(calls[i].status, cases[k].want[i]);
                        /* A response message only with OK. */
                        assert_int_equal(calls[i].recv != NULL, cases[k].want[i] == GRPC_STATUS_OK);
                        call_done(&calls[i]);
                }
        }
}

static void test_no_commit_without_success(void **state) {
        static const char *const methods[] = { ALLOCATE, ALLOCATE };
        static const char *const uids[] = { "fail-a", "fail-b" };
        Fixture *f = *state;
        Recorder rec = {};
        ClientCall calls[ELEMENTSOF(uids)];

        serve_recorded(f, &rec);

        batch(f, calls, methods, uids, ELEMENTSOF(uids));
        assert_int_equal(rec.handlers_run, 2);
        assert_int_equal(rec.hook_runs, 0);
        for (size_t i = 0; i < ELEMENTSOF(uids); i++) {
                assert_int_equal(calls[i].status, GRPC_STATUS_INVALID_ARGUMENT);
                call_done(&calls[i]);
        }
}

/* ---- the plugin service's commit: saves only what changed ---- */

/* How many saves the checkpoint files hold: the newest sequence in them
 * (plugins/qrm-checkpoint.h), 0 if none. */
static unsigned long long checkpoint_saves(const char *dir) {
        static const char *const names[] = { QRM_CHECKPOINT_FILE, QRM_CHECKPOINT_FILE_ALT };
        unsigned long long newest = 0;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char path[160];
                unsigned long long n;
                FILE *f;

                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                f = fopen(path, "re");
                if (!f)
                        continue;
                if (fscanf(f, "nodeqos-qrm-checkpoint 2\nsequence %llu\n", &n) == 1 && n > newest)
                        newest = n;
                fclose(f);
        }
        return newest;
}

static void test_plugin_service_saves_changes_only(void **state) {
        static const struct {
                const char *method, *uid;
                bool saves;
        } steps[] = {
                { ALLOCATE, "pod-1", true },  /* a new pod */
                { HINTS, "pod-2", false },    /* a read */
                { ALLOCATE, "pod-1", false }, /* the same request again: the same answer, no change */
                { ALLOCATE, "pod-2", true },
        };
        Fixture *f = *state;
        PluginService ps;
        ApiEndpoint *e = add_cpu_endpoint(f);
        char state_dir[128];
        unsigned long long saves = 0;

        snprintf(state_dir, sizeof(state_dir), "%s/state", f->dir);
        assert_int_equal(plugin_service_init(&ps, NULL, state_dir), 0);
        assert_int_equal(plugin_service_install_qrm(&ps, e), 0);
        assert_int_equal(plugin_service_install_commit(&ps, f->server), 0);
        connect_client(f);
        assert_int_equal(checkpoint_saves(state_dir), 0);

        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                ClientCall call;

                batch(f, &call, &steps[i].method, &steps[i].uid, 1);
                assert_int_equal(call.status, GRPC_STATUS_OK);
                call_done(&call);
                saves += steps[i].saves;
                assert_int_equal(checkpoint_saves(state_dir), saves);
        }

        api_server_stop(f->server);
        plugin_service_done(&ps);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_hook_once_before_any_answer, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_no_commit_without_success, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(test_plugin_service_saves_changes_only, fixture_setup,
                                                fixture_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The transport-independent half of the gRPC API: the wire check
 * (protobuf-check.h) as tables of byte strings, the errno -> status map,
 * the method table, and a call's way through decode, handler and encode
 * (rpc.h), including the handler mistakes it must survive. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "health.pb-c.h"
#include "macro.h"
#include "pluginregistration.pb-c.h"
#include "protobuf-check.h"
#include "resourceplugin.pb-c.h"
#include "rpc.h"

#define BYTES(s) (const uint8_t *) (s), sizeof(s) - 1

static void test_utf8(void **state) {
        static const struct {
                const char *s;
                size_t len;
                bool valid;
        } cases[] = {
                { "", 0, true },
                { "plain ascii", 11, true },
                { "\xc3\xa9t\xc3\xa9", 5, true },      /* été */
                { "\xe2\x82\xac", 3, true },           /* U+20AC */
                { "\xf0\x9f\x98\x80", 4, true },       /* U+1F600 */
                { "\xf4\x8f\xbf\xbf", 4, true },       /* U+10FFFF, the last */
                { "a\0b", 3, false },                  /* NUL: C strings would cut it */
                { "\xc3\x28", 2, false },              /* bad continuation */
                { "\xc3", 1, false },                  /* truncated */
                { "\xc0\xaf", 2, false },              /* overlong '/' */
                { "\xe0\x80\xaf", 3, false },          /* overlong, 3 bytes */
                { "\xf0\x80\x80\xaf", 4, false },      /* overlong, 4 bytes */
                { "\xed\xa0\x80", 3, false },          /* surrogate U+D800 */
                { "\xf4\x90\x80\x80", 4, false },      /* above U+10FFFF */
                { "\xf5\x80\x80\x80", 4, false },      /* lead byte out of range */
                { "\x80", 1, false },                  /* lone continuation */
                { "\xff", 1, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                if (utf8_is_valid_c_string((const uint8_t *) cases[i].s, cases[i].len) != cases[i].valid)
                        fail_msg("case %zu: expected %s", i, cases[i].valid ? "valid" : "invalid");
        }
}

static void test_protobuf_check(void **state) {
        /* Against resourceplugin.v1alpha1.ResourceRequest: 1 pod_uid string,
         * 5 container_type enum, 6 container_index uint64, 10 hint
         * TopologyHint {1 nodes repeated uint64, 2 preferred bool},
         * 11 resource_requests map<string,double>, 12 labels map<string,string>. */
        static const struct {
                const char *name;
                const uint8_t *data;
                size_t len;
                int expect;
                const char *field;
        } cases[] = {
                { "empty", BYTES(""), 0, "" },
                { "a string", BYTES("\x0a\x03""abc"), 0, "" },
                { "varint fields", BYTES("\x28\x01\x30\x80\x01"), 0, "" },
                { "nested message", BYTES("\x52\x04\x0a\x02\x00\x01"), 0, "" },
                { "packed repeated", BYTES("\x52\x05\x0a\x03\x00\x01\x02"), 0, "" },
                { "unpacked repeated", BYTES("\x52\x04\x08\x00\x08\x01"), 0, "" },
                { "map of doubles", BYTES("\x5a\x0e\x0a\x03""cpu\x11\x00\x00\x00\x00\x00\x00\x00\x40"), 0, "" },
                { "unknown fields of every wire type",
                  BYTES("\xf8\x01\x05\xf9\x01\x00\x00\x00\x00\x00\x00\x00\x00\xfa\x01\x01\xff\xfd\x01\x00\x00\x00\x00"),
                  0, "" },
                { "string not UTF-8", BYTES("\x0a\x02\xc3\x28"), -EBADMSG, "pod_uid" },
                { "string with NUL", BYTES("\x0a\x03""a\x00""b"), -EBADMSG, "pod_uid" },
                { "map key not UTF-8", BYTES("\x62\x06\x0a\x01\xff\x12\x01""a"), -EBADMSG, "key" },
                { "map value with NUL", BYTES("\x62\x06\x0a\x01""a\x12\x01\x00"), -EBADMSG, "value" },
                { "string as varint", BYTES("\x08\x01"), -EBADMSG, "pod_uid" },
                { "varint as string", BYTES("\x2a\x01""a"), -EBADMSG, "container_type" },
                { "message as fixed64", BYTES("\x51\x00\x00\x00\x00\x00\x00\x00\x00"), -EBADMSG, "hint" },
                { "packed run cut in a varint", BYTES("\x52\x03\x0a\x01\x80"), -EBADMSG, "nodes" },
                { "length past the end", BYTES("\x0a\x05""ab"), -EBADMSG, "pod_uid" },
                { "nested length past its message", BYTES("\x52\x02\x0a\x05"), -EBADMSG, "nodes" },
                { "truncated key", BYTES("\x80"), -EBADMSG, "" },
                { "key in 6 bytes", BYTES("\x8a\x80\x80\x80\x80\x00\x01""a"), -EBADMSG, "" },
                { "field number 0", BYTES("\x02\x00"), -EBADMSG, "" },
                { "group start", BYTES("\x0b\x0c"), -EBADMSG, "pod_uid" },
                { "group start of an unknown field", BYTES("\xfb\x01"), -EBADMSG, "" },
                { "wire type 7", BYTES("\xff\x01"), -EBADMSG, "" },
                { "varint of 11 bytes", BYTES("\x30\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"), -EBADMSG,
                  "container_index" },
                { "varint tenth byte too big", BYTES("\x30\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02"), -EBADMSG,
                  "container_index" },
                { "fixed32 truncated", BYTES("\xfd\x01\x00\x00"), -EBADMSG, "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *field = "untouched";
                int r = protobuf_check(&resourceplugin__v1alpha1__resource_request__descriptor, cases[i].data,
                                       cases[i].len, &field);

                if (r != cases[i].expect)
                        fail_msg("%s: returned %d, expected %d", cases[i].name, r, cases[i].expect);
                if (r < 0 && strcmp(field, cases[i].field) != 0)
                        fail_msg("%s: blamed field '%s', expected '%s'", cases[i].name, field, cases[i].field);
                if (r == 0)
                        assert_string_equal(field, "untouched");
        }
}

static void test_status_from_errno(void **state) {
        static const struct {
                int error;
                grpc_status_code status;
        } cases[] = {
                { 0, GRPC_STATUS_OK },
                { -EINVAL, GRPC_STATUS_INVALID_ARGUMENT },
                { -ENOENT, GRPC_STATUS_NOT_FOUND },
                { -EEXIST, GRPC_STATUS_ALREADY_EXISTS },
                { -EPERM, GRPC_STATUS_PERMISSION_DENIED },
                { -ENOMEM, GRPC_STATUS_RESOURCE_EXHAUSTED },
                { -EBUSY, GRPC_STATUS_UNAVAILABLE },
                { -EOPNOTSUPP, GRPC_STATUS_UNIMPLEMENTED },
                { -ETIMEDOUT, GRPC_STATUS_DEADLINE_EXCEEDED },
                { -ERANGE, GRPC_STATUS_OUT_OF_RANGE },
                { -EIO, GRPC_STATUS_INTERNAL },
                { EINVAL, GRPC_STATUS_INVALID_ARGUMENT }, /* either sign */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_int_equal(rpc_status_from_errno(cases[i].error), cases[i].status);
        assert_string_equal(rpc_status_to_string(GRPC_STATUS_UNIMPLEMENTED), "UNIMPLEMENTED");
        assert_string_equal(rpc_status_to_string((grpc_status_code) 99), "UNKNOWN");
}

static void test_method_table(void **state) {
        RpcMethodTable t = {};
        const RpcMethod *m;
        const char *path = "/pluginregistration.Registration/GetInfo";

        assert_int_equal(rpc_method_table_add_service(&t, &pluginregistration__registration__descriptor), 0);
        assert_int_equal(rpc_method_table_add_service(&t, &pluginregistration__registration__descriptor), -EEXIST);
        assert_int_equal(t.n_methods, 2);

        m = rpc_method_table_find(&t, path, strlen(path));
        assert_non_null(m);
        assert_ptr_equal(m->input, &pluginregistration__info_request__descriptor);
        assert_ptr_equal(m->output, &pluginregistration__plugin_info__descriptor);
        assert_null(m->handler);
        /* Lengths count: a prefix or a longer path is another method. */
        assert_null(rpc_method_table_find(&t, path, strlen(path) - 1));
        assert_null(rpc_method_table_find(&t, "/pluginregistration.Registration/GetInfoX", 41));

        assert_int_equal(rpc_method_table_set_handler(&t, "/pluginregistration.Registration/Nope", RPC_THREAD_GRPC,
                                                      NULL, NULL),
                         -ENOENT);
        assert_true(rpc_method_table_has_service(&t, "pluginregistration.Registration"));
        assert_false(rpc_method_table_has_service(&t, "pluginregistration"));
        assert_false(rpc_method_table_has_service(&t, "pluginregistration.Registratio"));
        rpc_method_table_done(&t);
}

/* Handlers with the mistakes and the failures a call must survive. */
static int answer_info(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response, void *userdata) {
        Pluginregistration__PluginInfo *info = (Pluginregistration__PluginInfo *) response;

        info->name = rpc_strdupf(call, "%s-%d", "cpu", 1);
        info->supported_versions = rpc_alloc_array(call, 2, sizeof(char *));
        if (!info->name || !info->supported_versions)
                return -ENOMEM;
        info->supported_versions[0] = rpc_strdup(call, "v1alpha1");
        /* A large allocation in the middle gets a chunk of its own. */
        info->supported_versions[1] = rpc_alloc(call, 64 * 1024);
        if (!info->supported_versions[0] || !info->supported_versions[1])
                return -ENOMEM;
        memset(info->supported_versions[1], 'v', 64 * 1024 - 1);
        info->n_supported_versions = 2;
        return 0;
}

static int refuse(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response, void *userdata) {
        return rpc_fail(call, -EINVAL, "pod %s is unknown", "u");
}

static int refuse_bare(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response, void *userdata) {
        return -EBUSY;
}

static int refuse_status(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response, void *userdata) {
        return rpc_fail_status(call, GRPC_STATUS_FAILED_PRECONDITION, "not yet");
}

static int broken_response(RpcCall *call, const ProtobufCMessage *request, ProtobufCMessage *response, void *userdata) {
        Pluginregistration__PluginInfo *info = (Pluginregistration__PluginInfo *) response;

        /* Says two versions, has none. */
        info->n_supported_versions = 2;
        return 0;
}

static void run_call(RpcHandler handler, const uint8_t *req, size_t len, grpc_status_code want_status,
                     const char *want_message, Pluginregistration__PluginInfo **ret_info) {
        RpcMethodTable t = {};
        _cleanup_(rpc_call_freep) RpcCall *call = NULL;
        const char *path = "/pluginregistration.Registration/GetInfo";
        uint8_t *out = NULL;
        size_t out_len = 0;
        grpc_status_code status;

        assert_int_equal(rpc_method_table_add_service(&t, &pluginregistration__registration__descriptor), 0);
        if (handler)
                assert_int_equal(rpc_method_table_set_handler(&t, path, RPC_THREAD_GRPC, handler, NULL), 0);
        assert_int_equal(rpc_call_new(rpc_method_table_find(&t, path, strlen(path)), "test", &call), 0);

        status = rpc_call_decode(call, req, len);
        if (status == GRPC_STATUS_OK)
                status = rpc_call_answer(call, NULL, &out, &out_len);
        if (status != want_status)
                fail_msg("status %s, expected %s (%s)", rpc_status_to_string(status), rpc_status_to_string(want_status),
                         rpc_call_status_message(call));
        assert_int_equal(rpc_call_status(call), status);
        if (want_message)
                assert_string_equal(rpc_call_status_message(call), want_message);
        if (status == GRPC_STATUS_OK) {
                assert_non_null(out);
                *ret_info = pluginregistration__plugin_info__unpack(NULL, out_len, out);
                assert_non_null(*ret_info);
        } else
                assert_null(out);
        free(out);
        call = rpc_call_free(call);
        rpc_method_table_done(&t);
}

static void test_call(void **state) {
        Pluginregistration__PluginInfo *info = NULL;

        run_call(answer_info, BYTES(""), GRPC_STATUS_OK, "", &info);
        assert_string_equal(info->name, "cpu-1");
        assert_int_equal(info->n_supported_versions, 2);
        assert_string_equal(info->supported_versions[0], "v1alpha1");
        assert_int_equal(strlen(info->supported_versions[1]), 64 * 1024 - 1);
        pluginregistration__plugin_info__free_unpacked(info, NULL);

        run_call(NULL, BYTES(""), GRPC_STATUS_UNIMPLEMENTED,
                 "/pluginregistration.Registration/GetInfo is not implemented by nodeqos", NULL);
        run_call(answer_info, BYTES("\x0a\x05"), GRPC_STATUS_INVALID_ARGUMENT,
                 "request is not a valid pluginregistration.InfoRequest: malformed bytes", NULL);
        run_call(refuse, BYTES(""), GRPC_STATUS_INVALID_ARGUMENT, "pod u is unknown", NULL);
        run_call(refuse_bare, BYTES(""), GRPC_STATUS_UNAVAILABLE, "Device or resource busy", NULL);
        run_call(refuse_status, BYTES(""), GRPC_STATUS_FAILED_PRECONDITION, "not yet", NULL);
        run_call(broken_response, BYTES(""), GRPC_STATUS_INTERNAL,
                 "the handler of /pluginregistration.Registration/GetInfo built an invalid response", NULL);
}

static void test_request_kept_for_handler(void **state) {
        RpcMethodTable t = {};
        _cleanup_(rpc_call_freep) RpcCall *call = NULL;
        const char *path = "/grpc.health.v1.Health/Check";
        const Grpc__Health__V1__HealthCheckRequest *req;

        assert_int_equal(rpc_method_table_add_service(&t, &grpc__health__v1__health__descriptor), 0);
        assert_int_equal(rpc_method_table_set_streaming(&t, "/grpc.health.v1.Health/Watch"), 0);
        /* A streaming method has no handler and yet decodes (the transport answers it). */
        assert_int_equal(rpc_method_table_set_handler(&t, "/grpc.health.v1.Health/Watch", RPC_THREAD_GRPC, refuse, NULL),
                         -ENOENT);
        assert_int_equal(rpc_call_new(rpc_method_table_find(&t, "/grpc.health.v1.Health/Watch", 28), "test", &call), 0);
        assert_int_equal(rpc_call_decode(call, BYTES("\x0a\x01x")), GRPC_STATUS_OK);
        req = (const Grpc__Health__V1__HealthCheckRequest *) rpc_call_request(call);
        assert_string_equal(req->service, "x");
        call = rpc_call_free(call);

        /* Without a handler a unary method never decodes. */
        assert_int_equal(rpc_call_new(rpc_method_table_find(&t, path, strlen(path)), "test", &call), 0);
        assert_int_equal(rpc_call_decode(call, BYTES("")), GRPC_STATUS_UNIMPLEMENTED);
        assert_null(rpc_call_request(call));
        rpc_method_table_done(&t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_utf8),
                cmocka_unit_test(test_protobuf_check),
                cmocka_unit_test(test_status_from_errno),
                cmocka_unit_test(test_method_table),
                cmocka_unit_test(test_call),
                cmocka_unit_test(test_request_kept_for_handler),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

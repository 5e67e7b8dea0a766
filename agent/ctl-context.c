/* SPDX-License-Identifier: Apache-2.0 */
#include "ctl-context.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl-json.h"
#include "rpc.h"

void ctl_done(Ctl *ctl) {
        ctl->client = ctl_client_free(ctl->client);
}

static int exit_for_connect_error(int r) {
        return r == -EACCES || r == -EPERM ? CTL_EXIT_DENIED : CTL_EXIT_UNREACHABLE;
}

int ctl_call(Ctl *ctl, const char *method, const ProtobufCMessage *request,
             const ProtobufCMessageDescriptor *output, ProtobufCMessage **ret) {
        CtlCallResult result;
        char reason[512];
        int r;

        if (!ctl->client) {
                r = ctl_client_new(ctl->socket_path, &ctl->client, reason, sizeof(reason));
                if (r == -ENOMEM) {
                        fprintf(stderr, "nodeqosctl: out of memory\n");
                        return CTL_EXIT_FAILED;
                }
                if (r < 0) {
                        fprintf(stderr, "nodeqosctl: %s\n", reason);
                        return exit_for_connect_error(r);
                }
        }

        r = ctl_client_call(ctl->client, method, request, output, ctl->timeout_usec, &result);
        if (r < 0) {
                fprintf(stderr, "nodeqosctl: out of memory\n");
                return CTL_EXIT_FAILED;
        }
        switch (result.status) {
        case GRPC_STATUS_OK:
                *ret = result.response;
                return CTL_EXIT_OK;
        case GRPC_STATUS_DEADLINE_EXCEEDED:
                fprintf(stderr, "nodeqosctl: no answer from %s within %.1f s — is nodeqosd stuck?\n",
                        ctl->socket_path, ctl->timeout_usec / 1e6);
                return CTL_EXIT_UNREACHABLE;
        case GRPC_STATUS_UNAVAILABLE:
                /* The agent's own UNAVAILABLE ("no snapshot yet") has a
                 * reason; gRPC's (the agent went away) says "failed to
                 * connect" or the like. Both are worth showing. */
                if (ctl_client_reachable(ctl->socket_path, reason, sizeof(reason)) < 0) {
                        fprintf(stderr, "nodeqosctl: %s\n", reason);
                        return CTL_EXIT_UNREACHABLE;
                }
                break;
        case GRPC_STATUS_UNIMPLEMENTED:
                fprintf(stderr, "nodeqosctl: %s: not served by this nodeqosd (an older version?)%s%s\n", method,
                        result.details[0] ? ": " : "", result.details);
                return CTL_EXIT_FAILED;
        default:
                break;
        }
        fprintf(stderr, "nodeqosctl: %s: %s%s%s\n", method, rpc_status_to_string(result.status),
                result.details[0] ? ": " : "", result.details);
        return CTL_EXIT_FAILED;
}

void ctl_print_json(const ProtobufCMessage *m) {
        JsonWriter w;

        json_writer_init(&w, stdout, true);
        json_message(&w, m);
        json_finish(&w);
}

bool ctl_parse_double(const char *option, const char *s, double *ret) {
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || *end || !isfinite(v)) {
                fprintf(stderr, "nodeqosctl: %s: '%s' is not a number\n", option, s);
                return false;
        }
        *ret = v;
        return true;
}

/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What every nodeqosctl command shares: the options, the connection to
 * the agent (opened at the first call), and how a failed call is told to
 * the operator and turned into the exit code. */

#include <stdbool.h>
#include <stdint.h>

#include "ctl-client.h"

/* The exit codes, documented in --help and the README. */
typedef enum CtlExit {
        CTL_EXIT_OK = 0,
        CTL_EXIT_FAILED = 1,      /* the agent refused or failed the request; or configuration errors */
        CTL_EXIT_USAGE = 2,       /* bad command line */
        CTL_EXIT_UNREACHABLE = 3, /* no agent on the socket, or no answer in time */
        CTL_EXIT_DENIED = 4,      /* not allowed to use the socket */
} CtlExit;

typedef struct Ctl {
        const char *socket_path;
        bool json;
        uint64_t timeout_usec;
        CtlClient *client;
} Ctl;

void ctl_done(Ctl *ctl);

/* Calls method and returns CTL_EXIT_OK with the answer in *ret (free it
 * with protobuf_c_message_free_unpacked()), or prints why on stderr and
 * returns the exit code. */
int ctl_call(Ctl *ctl, const char *method, const ProtobufCMessage *request,
             const ProtobufCMessageDescriptor *output, ProtobufCMessage **ret);

/* Writes m as pretty JSON to stdout (-o json). */
void ctl_print_json(const ProtobufCMessage *m);

/* Parses a number for an option; prints the problem and returns false. */
bool ctl_parse_double(const char *option, const char *s, double *ret);

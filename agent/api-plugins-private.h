/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the parts of the plugin glue (api-plugins.h) share. api-plugins.c:
 * the service's state and checkpoint; api-plugins-qrm.c: the
 * ResourcePlugin handlers and their conversions; api-plugins-hooks.c: the
 * RuntimeHookService handlers and theirs. */

#include <errno.h>
#include <stddef.h>

#include "api-plugins.h"
#include "plugins/plugin-error.h"
#include "rpc.h"

/* Map entries (key, value strings) into QrmKeyValue, call memory. */
#define KV_CONVERT(call, src, n, dst)                                                                 \
        ({                                                                                            \
                QrmKeyValue *_kv = NULL;                                                              \
                int _r = 0;                                                                           \
                if ((n) > 0) {                                                                        \
                        _kv = rpc_alloc_array((call), (n), sizeof(QrmKeyValue));                      \
                        if (!_kv)                                                                     \
                                _r = -ENOMEM;                                                         \
                        else                                                                          \
                                for (size_t _i = 0; _i < (n); _i++)                                   \
                                        _kv[_i] = (QrmKeyValue) { (src)[_i]->key, (src)[_i]->value }; \
                }                                                                                     \
                *(dst) = _kv;                                                                         \
                _r;                                                                                   \
        })

/* A refusal by the plugins (err) as the call's status; -ENOMEM without a
 * message stays -ENOMEM. */
int plugin_call_fail(RpcCall *call, int r, const PluginError *err);

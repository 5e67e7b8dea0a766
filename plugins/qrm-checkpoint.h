/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The QRM allocation state on disk, so that a restarted agent answers
 * exactly what it answered before (the kubelet does not allocate running
 * containers again). One text file, <state_dir>/qrm-checkpoint:
 *
 *   nodeqos-qrm-checkpoint 1
 *   reclaimed-cpus -1
 *   pod <uid> <namespace> <name>
 *   entry <container> <type> <index> <class> <cpu> <memory> <exclusive> <memory-hint>
 *   ...
 *   checksum <FNV-1a 64 of every byte before this line, 16 hex digits>
 *
 * "-" stands for an empty name (the pod-level entry's container), a
 * resource not allocated, or no CPU/node list. Requests are written with
 * 17 significant digits, so they read back bit for bit. Written
 * atomically: a temporary file in the same directory, fsync, rename,
 * fsync of the directory; a crash leaves the old file or the new one. */

#include <stddef.h>
#include <stdint.h>

#include "plugins/plugin-error.h"
#include "plugins/qrm-state.h"

#define QRM_CHECKPOINT_FILE "qrm-checkpoint"
#define QRM_CHECKPOINT_VERSION 1
#define QRM_CHECKPOINT_DEFAULT_DIR "/var/lib/nodeqos"

/* 10 000 entries with the longest names fit in 8 MiB; a larger file is
 * not ours. */
#define QRM_CHECKPOINT_MAX_BYTES (16 * 1024 * 1024)

/* FNV-1a, 64 bits. */
uint64_t qrm_checkpoint_checksum(const void *data, size_t size);

/* The checkpoint text of s. Returns 0 or -ENOMEM. */
int qrm_checkpoint_format(const QrmState *s, char **ret_data, size_t *ret_size);

/* Puts the state in data (size bytes, no NUL needed) into s, which must be
 * empty. On error s is left empty (reclaimed pool reset) and err says why:
 *   -EBADMSG          corrupted: bad header, truncated, checksum mismatch,
 *                     malformed or inconsistent content, too large
 *   -EPROTONOSUPPORT  written by a newer version
 *   -ESTALE           valid, but not for this node any more (exclusive
 *                     CPUs offline or reserved now, nodes gone)
 *   -E2BIG            more pods or containers than the state holds
 *   -EBUSY            s is not empty (nothing changed)
 *   -ENOMEM */
int qrm_checkpoint_parse(QrmState *s, const char *data, size_t size, PluginError *err);

/* Writes s to <state_dir>/qrm-checkpoint atomically (state_dir NULL:
 * QRM_CHECKPOINT_DEFAULT_DIR; created if missing, its parent must exist).
 * Returns 0 or -errno with a message. */
int qrm_checkpoint_save(const QrmState *s, const char *state_dir, PluginError *err);

/* Reads <state_dir>/qrm-checkpoint into the empty state s. Returns 0,
 * -ENOENT if there is no checkpoint (a first start), the errors of
 * qrm_checkpoint_parse(), or -errno from reading. The caller decides: log
 * and start empty, or refuse to start. */
int qrm_checkpoint_load(QrmState *s, const char *state_dir, PluginError *err);

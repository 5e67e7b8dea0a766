/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The QRM allocation state on disk, so that a restarted agent answers
 * exactly what it answered before (the kubelet does not allocate running
 * containers again). The text of one checkpoint:
 *
 *   nodeqos-qrm-checkpoint 2
 *   sequence <n, one more each save>
 *   reclaimed-cpus -1
 *   pod <uid> <namespace> <name>
 *   entry <container> <type> <index> <class> <cpu> <memory> <exclusive> <memory-hint>
 *   ...
 *   checksum <FNV-1a 64 of every byte before this line, 16 hex digits>
 *
 * "-" stands for an empty name (the pod-level entry's container), a
 * resource not allocated, or no CPU/node list. Requests are written with
 * 17 significant digits, so they read back bit for bit. Format 1 is the
 * same without the sequence line (read as sequence 1).
 *
 * Two files, <state_dir>/qrm-checkpoint (odd sequences) and
 * qrm-checkpoint.alt (even ones), each the text followed by a NUL and
 * zeros. A save overwrites the file that does not hold the newest
 * checkpoint, in place, and ends with one fdatasync(): no rename, so no
 * directory to sync. A crash or power loss during a save can tear only
 * that file (its checksum then fails); the other one still holds the
 * previous save. The reader takes the whole file with the higher
 * sequence. (A temporary file renamed over the old one needs an fsync of
 * the file and one of the directory: two inode or journal writes and two
 * disk cache flushes, measured 3-5x slower on ext4 here, see
 * tests/bench/checkpoint-cost.sh. Overwriting blocks a file already has
 * changes no metadata, so one data write and one flush are all.) */

#include <stddef.h>
#include <stdint.h>

#include "plugins/plugin-error.h"
#include "plugins/qrm-state.h"

#define QRM_CHECKPOINT_FILE "qrm-checkpoint"
#define QRM_CHECKPOINT_FILE_ALT "qrm-checkpoint.alt"
#define QRM_CHECKPOINT_VERSION 2
#define QRM_CHECKPOINT_DEFAULT_DIR "/var/lib/nodeqos"

/* 10 000 entries with the longest names fit in 8 MiB; a larger file is
 * not ours. */
#define QRM_CHECKPOINT_MAX_BYTES (16 * 1024 * 1024)

/* FNV-1a, 64 bits. */
uint64_t qrm_checkpoint_checksum(const void *data, size_t size);

/* The checkpoint text of s, with this sequence. Returns 0 or -ENOMEM. */
int qrm_checkpoint_format(const QrmState *s, uint64_t sequence, char **ret_data, size_t *ret_size);

/* Checks a checkpoint text without a state: header, checksum, sequence
 * line. Returns 0 with its sequence (0 for format 1), -EBADMSG or
 * -EPROTONOSUPPORT as qrm_checkpoint_parse(). */
int qrm_checkpoint_verify(const char *data, size_t size, uint64_t *ret_sequence, PluginError *err);

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

/* Writes s as checkpoint number sequence (> 0; one more than the last
 * save or load) into its file in state_dir (NULL:
 * QRM_CHECKPOINT_DEFAULT_DIR; created if missing, its parent must exist),
 * durably. A failed save may leave that file torn: save the same sequence
 * again. Returns 0 or -errno with a message. */
int qrm_checkpoint_save(const QrmState *s, const char *state_dir, uint64_t sequence, PluginError *err);

/* Reads the newest whole checkpoint in state_dir into the empty state s,
 * and its sequence into *ret_sequence (if given). Returns 0, -ENOENT if
 * there is no checkpoint file (a first start), the errors of
 * qrm_checkpoint_parse() (-EBADMSG: no file is whole), or -errno from
 * reading. The caller decides: log and start empty, or refuse to start. */
int qrm_checkpoint_load(QrmState *s, const char *state_dir, uint64_t *ret_sequence, PluginError *err);

/* Renames both files to <name>.corrupt (those there), so that the agent
 * starts empty without losing them. Returns 0 or -errno with a message. */
int qrm_checkpoint_set_aside(const char *state_dir, PluginError *err);

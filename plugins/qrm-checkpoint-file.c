/* SPDX-License-Identifier: Apache-2.0 */
/* The QRM checkpoint on disk: two files written in place by turns, each
 * save made durable by one fdatasync (qrm-checkpoint.h says why that is
 * enough). */
#include "qrm-checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/macro.h"

/* A file grows by at least this much, zero-filled: the checkpoint grows by
 * ~120 bytes a pod, and a save that grows the file also commits its size
 * and new blocks (a journal commit, like an fsync); with this slack only
 * one save in ~500 pods added does. */
#define SLOT_GROWTH_BYTES (64 * 1024)

/* Odd sequences (and format 1, which has none) in the primary file, even
 * ones in the alternate: the file a save writes never holds the newest
 * durable checkpoint, which the previous save put in the other one. */
static const char *slot_file(uint64_t sequence) {
        return sequence % 2 ? QRM_CHECKPOINT_FILE : QRM_CHECKPOINT_FILE_ALT;
}

static int open_state_dir(const char *dir, bool create) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd >= 0 || errno != ENOENT || !create)
                return fd >= 0 ? fd : negative_errno();
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd >= 0 ? fd : negative_errno();
}

static int pwrite_all(int fd, const char *data, size_t size) {
        off_t offset = 0;

        while (size > 0) {
                ssize_t n = pwrite(fd, data, size, offset);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                data += n;
                offset += n;
                size -= (size_t) n;
        }
        return 0;
}

/* The file of this sequence, opened for writing; *ret_created if it was
 * not there (its name is not durable yet). */
static int open_slot(int dir_fd, uint64_t sequence, bool *ret_created) {
        const char *name = slot_file(sequence);
        int fd = openat(dir_fd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

        *ret_created = false;
        if (fd < 0 && errno == ENOENT) {
                fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                *ret_created = fd >= 0;
        }
        return fd >= 0 ? fd : negative_errno();
}

int qrm_checkpoint_save(const QrmState *s, const char *state_dir, uint64_t sequence, PluginError *err) {
        const char *dir = state_dir ?: QRM_CHECKPOINT_DEFAULT_DIR;
        _cleanup_free_ char *data = NULL;
        _cleanup_close_ int dir_fd = -1, fd = -1;
        size_t size, length;
        struct stat st;
        bool created;
        int r;

        if (sequence == 0)
                return plugin_error_set(err, EINVAL, "Checkpoint sequence 0.");
        r = qrm_checkpoint_format(s, sequence, &data, &size);
        if (r < 0)
                return plugin_error_set(err, r, "Out of memory.");

        dir_fd = open_state_dir(dir, true);
        if (dir_fd < 0)
                return plugin_error_set(err, dir_fd, "Cannot open the state directory %s: %s.", dir,
                                        strerror(-dir_fd));
        fd = open_slot(dir_fd, sequence, &created);
        if (fd < 0)
                return plugin_error_set(err, fd, "Cannot open %s/%s: %s.", dir, slot_file(sequence), strerror(-fd));
        if (fstat(fd, &st) < 0)
                return plugin_error_set(err, errno, "Cannot stat %s/%s: %m.", dir, slot_file(sequence));
        if (!S_ISREG(st.st_mode))
                return plugin_error_set(err, EEXIST, "%s/%s is not a regular file.", dir, slot_file(sequence));

        /* The text, then a NUL where the reader stops: what an older,
         * longer checkpoint left behind it is never read. The file is
         * never shortened (that would be a metadata change to commit). */
        length = size + 1;
        if ((off_t) length > st.st_size)
                length = (length + SLOT_GROWTH_BYTES - 1) / SLOT_GROWTH_BYTES * SLOT_GROWTH_BYTES;
        if (length > size) {
                char *grown = realloc(data, length);

                if (!grown)
                        return plugin_error_set(err, ENOMEM, "Out of memory.");
                data = grown;
                memset(data + size, 0, length - size);
        }

        r = pwrite_all(fd, data, length);
        /* Overwriting blocks the file already has changes no metadata that
         * reading it needs, so fdatasync() is one data write and a cache
         * flush; when the file grew, it also commits the new size and
         * blocks. A power loss in the middle tears this file only: its
         * checksum fails and the reader takes the other file, which holds
         * the previous save, everything answered before this one. */
        if (r >= 0 && fdatasync(fd) < 0)
                r = negative_errno();
        /* A new file's name is in the directory, which needs its own sync
         * (only the first two saves ever). */
        if (r >= 0 && created && fsync(dir_fd) < 0)
                r = negative_errno();
        if (r < 0)
                return plugin_error_set(err, r, "Cannot write the checkpoint %s/%s: %s.", dir, slot_file(sequence),
                                        strerror(-r));
        return 0;
}

/* ---- loading ---- */

typedef struct Slot {
        const char *name;
        char *data;
        size_t size;   /* up to the first NUL */
        bool present;
        int verified; /* 0 or qrm_checkpoint_verify()'s error */
        uint64_t sequence;
        PluginError err;
} Slot;

/* Reads a slot file whole. 0 (absent or read) or -errno with a message. */
static int read_slot(int dir_fd, const char *dir, Slot *slot) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t size = 0;

        fd = openat(dir_fd, slot->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0)
                return plugin_error_set(&slot->err, errno, "Cannot open %s/%s: %m.", dir, slot->name);
        slot->present = true;
        if (fstat(fd, &st) < 0)
                return plugin_error_set(&slot->err, errno, "Cannot stat %s/%s: %m.", dir, slot->name);
        if (!S_ISREG(st.st_mode))
                return plugin_error_set(&slot->err, EBADMSG, "%s/%s is not a regular file.", dir, slot->name);
        /* The zero-filled slack counts: one save's growth past the limit. */
        if (st.st_size > QRM_CHECKPOINT_MAX_BYTES + SLOT_GROWTH_BYTES)
                return plugin_error_set(&slot->err, EBADMSG, "%s/%s is larger than %d bytes.", dir, slot->name,
                                        QRM_CHECKPOINT_MAX_BYTES);

        /* One byte more than fstat() says, to notice a file that grew. */
        slot->data = malloc((size_t) st.st_size + 1);
        if (!slot->data)
                return plugin_error_set(&slot->err, ENOMEM, "Out of memory.");
        for (;;) {
                ssize_t n = read(fd, slot->data + size, (size_t) st.st_size + 1 - size);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return plugin_error_set(&slot->err, errno, "Cannot read %s/%s: %m.", dir, slot->name);
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > (size_t) st.st_size)
                        return plugin_error_set(&slot->err, EBADMSG, "%s/%s changed while it was read.", dir,
                                                slot->name);
        }
        slot->size = strnlen(slot->data, size);
        return 0;
}

static void verify_slot(Slot *slot, uint64_t parity) {
        slot->verified = qrm_checkpoint_verify(slot->data, slot->size, &slot->sequence, &slot->err);
        if (slot->verified < 0)
                return;
        if (slot->sequence == 0) /* format 1: no sequence, always the primary file */
                slot->sequence = 1;
        /* Copied or renamed by hand: saving after it would overwrite it. */
        if (slot->sequence % 2 != parity)
                slot->verified = plugin_error_set(&slot->err, EBADMSG,
                                                  "Sequence %llu does not belong in %s (the files were swapped?).",
                                                  (unsigned long long) slot->sequence, slot->name);
}

int qrm_checkpoint_load(QrmState *s, const char *state_dir, uint64_t *ret_sequence, PluginError *err) {
        const char *dir = state_dir ?: QRM_CHECKPOINT_DEFAULT_DIR;
        _cleanup_close_ int dir_fd = -1;
        Slot slots[2] = { { .name = QRM_CHECKPOINT_FILE }, { .name = QRM_CHECKPOINT_FILE_ALT } };
        Slot *best = NULL, *failed = NULL;
        int r = 0;

        dir_fd = open_state_dir(dir, false);
        if (dir_fd == -ENOENT)
                return plugin_error_set(err, ENOENT, "No checkpoint: %s does not exist.", dir);
        if (dir_fd < 0)
                return plugin_error_set(err, dir_fd, "Cannot open the state directory %s: %s.", dir,
                                        strerror(-dir_fd));

        for (size_t i = 0; i < ELEMENTSOF(slots) && r >= 0; i++) {
                r = read_slot(dir_fd, dir, &slots[i]);
                if (r < 0) {
                        *err = slots[i].err;
                        break;
                }
                if (!slots[i].present)
                        continue;
                verify_slot(&slots[i], i == 0 ? 1 : 0);
                if (slots[i].verified == -EPROTONOSUPPORT) {
                        *err = slots[i].err;
                        r = -EPROTONOSUPPORT;
                } else if (slots[i].verified < 0)
                        failed = failed ?: &slots[i];
                else if (!best || slots[i].sequence > best->sequence)
                        best = &slots[i];
        }

        if (r >= 0 && !best && !failed)
                r = plugin_error_set(err, ENOENT, "No checkpoint in %s.", dir);
        else if (r >= 0 && !best) {
                *err = failed->err;
                r = failed->verified;
        } else if (r >= 0) {
                /* The newest that is whole. A torn other file is what a
                 * power loss during a save leaves: that save was not
                 * answered, so nothing is lost. */
                r = qrm_checkpoint_parse(s, best->data, best->size, err);
                if (r >= 0 && ret_sequence)
                        *ret_sequence = best->sequence;
        }
        for (size_t i = 0; i < ELEMENTSOF(slots); i++)
                free(slots[i].data);
        return r;
}

int qrm_checkpoint_set_aside(const char *state_dir, PluginError *err) {
        const char *dir = state_dir ?: QRM_CHECKPOINT_DEFAULT_DIR;
        static const char *const names[] = { QRM_CHECKPOINT_FILE, QRM_CHECKPOINT_FILE_ALT };
        _cleanup_close_ int dir_fd = open_state_dir(dir, false);

        if (dir_fd < 0)
                return plugin_error_set(err, dir_fd, "Cannot open the state directory %s: %s.", dir,
                                        strerror(-dir_fd));
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char aside[64];

                (void) snprintf(aside, sizeof(aside), "%s.corrupt", names[i]);
                if (renameat(dir_fd, names[i], dir_fd, aside) < 0 && errno != ENOENT)
                        return plugin_error_set(err, errno, "Cannot move %s/%s aside to %s: %m.", dir, names[i],
                                                aside);
        }
        /* The next save starts at sequence 1 in a file of its own. */
        if (fsync(dir_fd) < 0)
                return plugin_error_set(err, errno, "Cannot sync the state directory %s: %m.", dir);
        return 0;
}

/* SPDX-License-Identifier: Apache-2.0 */
/* Replays a fuzz target's corpus without libFuzzer, so that plain `meson test`
 * (gcc, no sanitizers required) runs every saved input on every build.
 *
 *   fuzz-config FILE|DIR...
 *
 * Each FILE is one input; each DIR contributes its regular files (not hidden
 * ones, not subdirectories), in name order. Exits non-zero if an input cannot
 * be read, if no input was found at all, or if the target returned non-zero;
 * a crash or abort() in the target ends the process as it would under
 * libFuzzer. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "macro.h"

static const char *program_name = "fuzz-main";

static int read_input(const char *path, uint8_t **ret_data, size_t *ret_size) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ uint8_t *data = NULL;
        struct stat st;
        size_t size = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;

        /* Exactly size bytes, no NUL after them: the target gets the same
         * buffer libFuzzer would give it, and ASan sees any overread. One
         * byte more than fstat says, to notice a file that grew. */
        data = malloc((size_t) st.st_size + 1);
        if (!data)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, data + size, (size_t) st.st_size + 1 - size);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > (size_t) st.st_size)
                        return -EAGAIN; /* changed while read */
        }

        *ret_data = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

static int run_input(const char *path) {
        _cleanup_free_ uint8_t *data = NULL;
        uint8_t *exact;
        size_t size;
        int r;

        r = read_input(path, &data, &size);
        if (r < 0) {
                fprintf(stderr, "%s: cannot read %s: %s\n", program_name, path, strerror(-r));
                return r;
        }

        /* Say which input runs before running it: a crash report names no file. */
        fprintf(stderr, "%s: %s (%zu bytes)\n", program_name, path, size);

        /* Shrink to exactly size bytes so ASan flags a read past the end. */
        exact = realloc(data, size > 0 ? size : 1);
        if (!exact)
                return -ENOMEM;
        data = exact;

        r = LLVMFuzzerTestOneInput(data, size);
        if (r != 0) {
                fprintf(stderr, "%s: %s: the target returned %d\n", program_name, path, r);
                return -EINVAL;
        }
        return 0;
}

static int corpus_filter(const struct dirent *de) {
        /* Editors' and version control's leftovers are not inputs. */
        return de->d_name[0] != '.';
}

/* Runs every regular file in dir; *n_ran counts them. Returns 0 or the first
 * error (the rest still run, so one bad file does not hide others). */
static int run_directory(const char *dir, unsigned *n_ran) {
        struct dirent **entries = NULL;
        int n, r = 0;

        n = scandir(dir, &entries, corpus_filter, alphasort);
        if (n < 0) {
                r = negative_errno();
                fprintf(stderr, "%s: cannot list %s: %s\n", program_name, dir, strerror(-r));
                return r;
        }

        for (int i = 0; i < n; i++) {
                _cleanup_free_ char *path = NULL;
                struct stat st;
                int k;

                if (asprintf(&path, "%s/%s", dir, entries[i]->d_name) < 0)
                        k = -ENOMEM;
                else if (stat(path, &st) < 0)
                        k = negative_errno();
                else if (S_ISDIR(st.st_mode))
                        k = 0; /* not an input; corpora are flat */
                else {
                        k = run_input(path);
                        if (k >= 0)
                                (*n_ran)++;
                }
                if (k < 0 && r >= 0)
                        r = k;
                free(entries[i]);
        }
        free(entries);
        return r;
}

int main(int argc, char *argv[]) {
        unsigned n_ran = 0;
        int r = 0;

        if (argc > 0 && argv[0][0]) {
                const char *slash = strrchr(argv[0], '/');
                program_name = slash ? slash + 1 : argv[0];
        }

        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE|DIR...\n", program_name);
                return EXIT_FAILURE;
        }

        for (int i = 1; i < argc; i++) {
                struct stat st;
                int k;

                if (stat(argv[i], &st) < 0) {
                        k = negative_errno();
                        fprintf(stderr, "%s: %s: %s\n", program_name, argv[i], strerror(-k));
                } else if (S_ISDIR(st.st_mode))
                        k = run_directory(argv[i], &n_ran);
                else {
                        k = run_input(argv[i]);
                        if (k >= 0)
                                n_ran++;
                }
                if (k < 0 && r >= 0)
                        r = k;
        }

        printf("%s: ran %u input%s\n", program_name, n_ran, n_ran == 1 ? "" : "s");
        if (r >= 0 && n_ran == 0) {
                /* A misspelled corpus path must not pass as a green test. */
                fprintf(stderr, "%s: no inputs found\n", program_name);
                return EXIT_FAILURE;
        }
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

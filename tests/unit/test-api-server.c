/* SPDX-License-Identifier: Apache-2.0 */
/* The transport's refusals before it serves anything: a socket path where
 * a live server accepts, a non-socket, a too long path, a start without the
 * agent's instance lock; and a start/stop that leaves no socket behind.
 * The calls themselves are tested end to end by
 * tests/integration/test-daemon-grpc.py. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "api-server.h"
#include "instance-lock.h"
#include "macro.h"
#include "unix-socket.h"

typedef struct Dir {
        char path[64];
} Dir;

static int dir_setup(void **state) {
        Dir *d = calloc(1, sizeof(*d));

        if (!d)
                return -1;
        strcpy(d->path, "/tmp/nodeqos-test-api-XXXXXX");
        if (!mkdtemp(d->path))
                return -1;
        *state = d;
        return 0;
}

static int dir_teardown(void **state) {
        Dir *d = *state;
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
        free(d);
        return system(cmd) == 0 ? 0 : -1;
}

static int bind_socket(const char *path, bool listening) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        strcpy(sa.sun_path, path);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        if (listening)
                assert_int_equal(listen(fd, 1), 0);
        return fd;
}

static void test_check_free(void **state) {
        Dir *d = *state;
        char path[128], long_path[200];
        int fd;

        snprintf(path, sizeof(path), "%s/s.sock", d->path);
        assert_int_equal(unix_socket_check_free(path), 0); /* nothing there */
        assert_int_equal(unix_socket_check_free("relative.sock"), -EINVAL);
        memset(long_path, 'a', sizeof(long_path) - 1);
        long_path[0] = '/';
        long_path[sizeof(long_path) - 1] = 0;
        assert_int_equal(unix_socket_check_free(long_path), -ENAMETOOLONG);

        fd = bind_socket(path, true);
        assert_int_equal(unix_socket_check_free(path), -EADDRINUSE); /* live */
        close(fd);
        assert_int_equal(unix_socket_check_free(path), 0); /* stale now */
        assert_int_equal(unix_socket_unlink(path), 0);
        assert_int_equal(access(path, F_OK), -1);

        fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(unix_socket_check_free(path), -EEXIST); /* not a socket */
        assert_int_equal(unix_socket_unlink(path), 0);         /* left alone */
        assert_int_equal(access(path, F_OK), 0);
        unlink(path);
        assert_int_equal(symlink("/tmp", path), 0);
        assert_int_equal(unix_socket_check_free(path), -EEXIST); /* nor a symlink */
        unlink(path);
}

static void test_restrict(void **state) {
        Dir *d = *state;
        char path[128];
        struct stat st;
        int fd;

        snprintf(path, sizeof(path), "%s/r.sock", d->path);
        fd = bind_socket(path, false);
        assert_int_equal(unix_socket_restrict(path, 0600), 0);
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        close(fd);
        unlink(path);
        fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        close(fd);
        assert_int_equal(unix_socket_restrict(path, 0600), -ENOTSOCK);
        unlink(path);
}

static int new_server(sd_event *event, int lock_fd, ApiStateBox *box, const char *path, ApiServer **ret) {
        static const ProtobufCServiceDescriptor *const none[] = {};
        int r = api_server_new(&(ApiServerParams) { .event = event, .instance_lock_fd = lock_fd, .states = box }, ret);

        if (r < 0)
                return r;
        return api_server_add_endpoint(*ret, "test", path, none, 0, NULL);
}

static void test_start_needs_lock(void **state) {
        Dir *d = *state;
        _cleanup_(api_server_freep) ApiServer *s = NULL;
        sd_event *event = NULL;
        ApiStateBox box;
        char path[128], lock_dir[128];
        const char *failed = NULL;
        int lock_fd, other_fd;

        api_state_box_init(&box);
        assert_int_equal(sd_event_new(&event), 0);
        snprintf(path, sizeof(path), "%s/api.sock", d->path);
        snprintf(lock_dir, sizeof(lock_dir), "%s/run", d->path);

        /* No lock at all. */
        assert_int_equal(new_server(event, -1, &box, path, &s), 0);
        assert_int_equal(api_server_start(s, &failed), -ENOLCK);
        assert_int_equal(access(path, F_OK), -1);
        s = api_server_free(s);

        /* A descriptor of the lock file that does not hold it, while
         * another holds it. */
        lock_fd = instance_lock_acquire(lock_dir, NULL);
        assert_true(lock_fd >= 0);
        snprintf(lock_dir, sizeof(lock_dir), "%s/run/nodeqosd.lock", d->path);
        other_fd = open(lock_dir, O_RDWR | O_CLOEXEC);
        assert_true(other_fd >= 0);
        assert_int_equal(new_server(event, other_fd, &box, path, &s), 0);
        assert_int_equal(api_server_start(s, &failed), -ENOLCK);
        assert_int_equal(access(path, F_OK), -1);
        s = api_server_free(s);
        close(other_fd);

        /* The holder's: serves, mode 0600; gone after the stop. */
        assert_int_equal(new_server(event, lock_fd, &box, path, &s), 0);
        assert_int_equal(api_server_start(s, &failed), 0);
        {
                struct stat st;

                assert_int_equal(lstat(path, &st), 0);
                assert_true(S_ISSOCK(st.st_mode));
                assert_int_equal(st.st_mode & 07777, 0600);
        }
        /* While it serves, a second server on the path is refused. */
        {
                _cleanup_(api_server_freep) ApiServer *s2 = NULL;

                assert_int_equal(new_server(event, lock_fd, &box, path, &s2), 0);
                assert_int_equal(api_server_start(s2, &failed), -EADDRINUSE);
                assert_string_equal(failed, path);
        }
        api_server_stop(s);
        api_server_stop(s); /* idempotent */
        assert_int_equal(access(path, F_OK), -1);
        s = api_server_free(s);

        close(lock_fd);
        sd_event_unref(event);
        api_state_box_done(&box);
}

static void test_endpoint_api(void **state) {
        Dir *d = *state;
        _cleanup_(api_server_freep) ApiServer *s = NULL;
        static const ProtobufCServiceDescriptor *const none[] = {};
        sd_event *event = NULL;
        ApiStateBox box;
        ApiEndpoint *e = NULL;
        char path[128];

        api_state_box_init(&box);
        assert_int_equal(sd_event_new(&event), 0);
        snprintf(path, sizeof(path), "%s/e.sock", d->path);
        assert_int_equal(api_server_new(&(ApiServerParams) { .event = event, .instance_lock_fd = -1, .states = &box }, &s),
                         0);
        assert_int_equal(api_server_add_endpoint(s, "admin", path, none, 0, &e), 0);
        assert_int_equal(api_server_add_endpoint(s, "again", path, none, 0, NULL), -EEXIST);
        assert_string_equal(api_endpoint_name(e), "admin");
        assert_string_equal(api_endpoint_socket(e), path);
        /* Health comes with every endpoint; Check has its handler. */
        assert_non_null(rpc_method_table_find(api_endpoint_methods(e), "/grpc.health.v1.Health/Check", 28));
        assert_int_equal(api_endpoint_handle(e, "/no.Such/Method", RPC_THREAD_LOOP, NULL, NULL), -ENOENT);
        s = api_server_free(s);
        sd_event_unref(event);
        api_state_box_done(&box);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_check_free, dir_setup, dir_teardown),
                cmocka_unit_test_setup_teardown(test_restrict, dir_setup, dir_teardown),
                cmocka_unit_test_setup_teardown(test_start_needs_lock, dir_setup, dir_teardown),
                cmocka_unit_test_setup_teardown(test_endpoint_api, dir_setup, dir_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}

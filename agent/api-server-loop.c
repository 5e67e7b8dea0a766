/* SPDX-License-Identifier: Apache-2.0 */
/* The hand-over of RPC_THREAD_LOOP calls from the completion-queue thread
 * to the event loop (a locked queue and an eventfd), and their answers in
 * batches with one commit each (api-server.h, ApiCommitHook). */
#include <pthread.h>
#include <unistd.h>

#include "api-server-private.h"

void queue_to_loop(ServerCall *c) {
        ApiServer *s = c->endpoint->server;
        uint64_t one = 1;

        pthread_mutex_lock(&s->lock);
        if (s->stopping) {
                pthread_mutex_unlock(&s->lock);
                call_finish(c, GRPC_STATUS_UNAVAILABLE, "nodeqosd is shutting down", NULL, 0);
                return;
        }
        c->next = NULL;
        if (s->queue_tail)
                s->queue_tail->next = c;
        else
                s->queue_head = c;
        s->queue_tail = c;
        pthread_mutex_unlock(&s->lock);

        /* Cannot fail short of a counter overflow; the loop drains the
         * whole queue on every wakeup anyway. */
        (void) write(s->queue_fd, &one, sizeof(one));
}

/* The commit hook failed: nothing the batch changed may be reported as
 * done. A handler's own failure stands: it promised nothing. */
#define COMMIT_FAILED_MESSAGE "nodeqosd could not make the change durable (see its log); retry"

int on_loop_queue(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        ApiServer *s = userdata;
        ServerCall *batch;
        bool any_ok = false;
        int r = 0;
        uint64_t n;

        (void) read(fd, &n, sizeof(n));
        pthread_mutex_lock(&s->lock);
        batch = s->queue_head;
        s->queue_head = s->queue_tail = NULL;
        pthread_mutex_unlock(&s->lock);

        /* Every handler first: the batch's changes are all made before the
         * hook, so one commit covers them (group commit). Calls that
         * arrive meanwhile wait for the next batch, whose commit covers
         * them: none is answered before a commit that includes it. */
        for (ServerCall *c = batch; c; c = c->next) {
                call_run(c);
                any_ok = any_ok || c->answer_status == GRPC_STATUS_OK;
        }
        /* A batch where every handler failed promised nothing: no commit
         * (whatever it changed, the next commit covers). */
        if (s->commit_hook && any_ok)
                r = s->commit_hook(s->commit_userdata);

        while (batch) {
                ServerCall *next = batch->next;

                batch->next = NULL;
                if (r < 0 && batch->answer_status == GRPC_STATUS_OK)
                        call_reply_instead(batch, GRPC_STATUS_UNAVAILABLE, COMMIT_FAILED_MESSAGE);
                else
                        call_reply(batch);
                batch = next;
        }
        return 0;
}

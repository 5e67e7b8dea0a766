/* SPDX-License-Identifier: Apache-2.0 */
/* The hand-over of RPC_THREAD_LOOP calls from the completion-queue thread
 * to the event loop: a locked queue and an eventfd. */
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

int on_loop_queue(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        ApiServer *s = userdata;
        ServerCall *c;
        uint64_t n;

        (void) read(fd, &n, sizeof(n));
        pthread_mutex_lock(&s->lock);
        c = s->queue_head;
        s->queue_head = s->queue_tail = NULL;
        pthread_mutex_unlock(&s->lock);

        while (c) {
                ServerCall *next = c->next;

                c->next = NULL;
                call_answer(c);
                c = next;
        }
        return 0;
}

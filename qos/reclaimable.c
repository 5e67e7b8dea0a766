/* SPDX-License-Identifier: Apache-2.0 */
#include "reclaimable.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* The deque lives in a ring of `capacity` slots: every candidate is inside
 * the window, and the window holds at most `capacity` samples, so it never
 * needs more. */

static size_t slot(const PeakWindow *w, size_t i) {
        return (w->head + i) % w->capacity;
}

static int alloc_ring(size_t window, double **ret_values, unsigned long long **ret_seq) {
        double *values = calloc(window, sizeof(*values));
        unsigned long long *seq = calloc(window, sizeof(*seq));

        if (!values || !seq) {
                free(values);
                free(seq);
                return -ENOMEM;
        }
        *ret_values = values;
        *ret_seq = seq;
        return 0;
}

int peak_window_init(PeakWindow *w, size_t window) {
        int r;

        *w = (PeakWindow) { .capacity = window };
        if (window == 0)
                return -EINVAL;
        r = alloc_ring(window, &w->values, &w->seq);
        if (r < 0)
                *w = (PeakWindow) {};
        return r;
}

void peak_window_done(PeakWindow *w) {
        free(w->values);
        free(w->seq);
        *w = (PeakWindow) {};
}

void peak_window_push(PeakWindow *w, double value) {
        unsigned long long seq;

        /* One NaN would compare false with everything and stick in the
         * deque; an infinity would pin the peak for a whole window. A sensor
         * glitch must not decide what the schedulers get. */
        if (!isfinite(value) || w->capacity == 0)
                return;

        seq = w->next_seq++;
        /* Expire the front first: the slot it frees may be needed below. */
        while (w->len > 0 && w->seq[w->head] + w->capacity <= seq) {
                w->head = (w->head + 1) % w->capacity;
                w->len--;
        }
        /* A newer sample at least as large outlives the smaller ones behind
         * it in the window: they can never be the maximum again. */
        while (w->len > 0 && w->values[slot(w, w->len - 1)] <= value)
                w->len--;

        w->values[slot(w, w->len)] = value;
        w->seq[slot(w, w->len)] = seq;
        w->len++;
}

bool peak_window_max(const PeakWindow *w, double *ret) {
        if (w->len == 0)
                return false;
        *ret = w->values[w->head];
        return true;
}

int peak_window_resize(PeakWindow *w, size_t window) {
        unsigned long long *seq, oldest;
        double *values;
        size_t first = 0, len = 0;
        int r;

        if (window == 0)
                return -EINVAL;
        if (window == w->capacity)
                return 0;
        r = alloc_ring(window, &values, &seq);
        if (r < 0)
                return r;

        /* The deque is in age order, so the newest `window` samples' maximum
         * is the first candidate among them; those before it drop out. A
         * larger window cannot bring back what already left the old one. */
        oldest = w->next_seq > window ? w->next_seq - window : 0;
        while (first < w->len && w->seq[slot(w, first)] < oldest)
                first++;
        for (size_t i = first; i < w->len; i++, len++) {
                values[len] = w->values[slot(w, i)];
                seq[len] = w->seq[slot(w, i)];
        }

        free(w->values);
        free(w->seq);
        w->values = values;
        w->seq = seq;
        w->capacity = window;
        w->head = 0;
        w->len = len;
        return 0;
}

ReclaimableEstimate reclaimable_estimate(double capacity, double ls_peak, double reserve) {
        ReclaimableEstimate e = {
                .known = isfinite(capacity) && isfinite(ls_peak) && isfinite(reserve),
                .capacity = capacity,
                .ls_peak = ls_peak,
                .reserve = reserve,
        };

        /* Promising a scheduler resources that a latency-sensitive peak will
         * take back is worse than promising none: floor at 0, and nothing
         * when an input is unknown. */
        if (e.known && capacity - ls_peak - reserve > 0)
                e.reclaimable = capacity - ls_peak - reserve;
        return e;
}

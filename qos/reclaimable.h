/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The reclaimable-resource estimate for schedulers, per resource:
 *
 *   reclaimable = capacity - predicted latency-sensitive peak - reserve
 *
 * floored at 0, where the predicted peak is the maximum of the
 * latency-sensitive usage over a sliding window of the last N samples
 * (a monotonic deque: O(1) amortised per sample, O(N) memory). Pure. */

#include <stdbool.h>
#include <stddef.h>

typedef struct PeakWindow {
        size_t capacity;  /* N, the window in samples */
        double *values;   /* ring of the deque's candidates */
        unsigned long long *seq;
        size_t head, len; /* the deque: decreasing values, oldest first */
        unsigned long long next_seq;
} PeakWindow;

/* Returns 0, -EINVAL for window 0, -ENOMEM. */
int peak_window_init(PeakWindow *w, size_t window);
void peak_window_done(PeakWindow *w);
/* Adds one sample (non-finite ones are ignored) and drops those older than
 * the window. */
void peak_window_push(PeakWindow *w, double value);
/* The largest sample in the window; false when empty. */
bool peak_window_max(const PeakWindow *w, double *ret);
/* Changes the window, keeping the newest samples that fit. 0 or -errno. */
int peak_window_resize(PeakWindow *w, size_t window);

typedef struct ReclaimableEstimate {
        bool known; /* false until a capacity and a sample are known */
        double capacity, ls_peak, reserve, reclaimable;
} ReclaimableEstimate;

/* Pure arithmetic, for the tests: reclaimable = max(0, capacity - peak - reserve).
 * An input not known yet is passed as NAN: the estimate is then not known
 * and reclaimable is 0, as it is for any non-finite input. */
ReclaimableEstimate reclaimable_estimate(double capacity, double ls_peak, double reserve);

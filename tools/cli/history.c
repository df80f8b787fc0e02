/* history.c — the run's measurements, grown as they come. */
#include "history.h"

#include <stdlib.h>
#include <string.h>

int history_add_steps(history *h, const float *loss, const float *lr, int64_t n)
{
    if (h->n + n > h->cap) {
        int64_t cap = h->cap * 2 > h->n + n ? h->cap * 2 : h->n + n + 1024;
        float *a = realloc(h->loss, (size_t)cap * sizeof *a);
        if (a) h->loss = a;
        float *b = realloc(h->lr, (size_t)cap * sizeof *b);
        if (b) h->lr = b;
        if (!a || !b) return -1;
        h->cap = cap;
    }
    memcpy(h->loss + h->n, loss, (size_t)n * sizeof *loss);
    memcpy(h->lr + h->n, lr, (size_t)n * sizeof *lr);
    h->n += n;
    return 0;
}

int history_add_epoch(history *h, const epoch_record *r)
{
    if (h->n_epochs == h->cap_epochs) {
        int cap = h->cap_epochs ? 2 * h->cap_epochs : 16;
        epoch_record *e = realloc(h->epochs, (size_t)cap * sizeof *e);
        if (!e) return -1;
        h->epochs = e;
        h->cap_epochs = cap;
    }
    h->epochs[h->n_epochs++] = *r;
    return 0;
}

void history_free(history *h)
{
    free(h->loss);
    free(h->lr);
    free(h->epochs);
    memset(h, 0, sizeof *h);
}

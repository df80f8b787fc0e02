/* monitor.c — early stopping and reduce-on-plateau: host-side bookkeeping over a validation
 * metric, fed once per epoch. */
#include "train/monitor.h"

#include <math.h>
#include <stdlib.h>

/* Whether `m` beats `best`: by more than `delta` absolutely, or by the factor (1 ± rel). */
static bool better(float m, float best, bool maximize, float delta, float rel)
{
    if (isnan(m)) return false;
    return maximize ? m > best * (best >= 0 ? 1 + rel : 1 - rel) + delta
                    : m < best * (best >= 0 ? 1 - rel : 1 + rel) - delta;
}

ig_early_stopping_config ig_early_stopping_defaults(void)
{
    return (ig_early_stopping_config){.maximize = false, .min_delta = 0.0f, .patience = 10};
}

ig_status ig_early_stopping_create(const ig_early_stopping_config *cfg, ig_early_stopping **out)
{
    if (!cfg || !out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_early_stopping_create: NULL %s", cfg ? "out" : "config");
    if (!(cfg->min_delta >= 0) || cfg->patience < 1)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_early_stopping_create: min_delta %g must be >= 0 and patience %d >= 1",
                       cfg->min_delta, cfg->patience);
    ig_early_stopping *es = calloc(1, sizeof *es);
    if (!es) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_early_stopping_create: out of memory");
    es->cfg = *cfg;
    *out = es;
    return IG_OK;
}

void ig_early_stopping_destroy(ig_early_stopping *es) { free(es); }

ig_status ig_early_stopping_update(ig_early_stopping *es, float metric, bool *improved, bool *stop)
{
    if (!es) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_early_stopping_update: NULL early stopping");
    bool up = !isnan(metric) && (!es->seen || better(metric, es->best, es->cfg.maximize, es->cfg.min_delta, 0));
    if (up) {
        es->best = metric;
        es->seen = true;
        es->wait = 0;
    } else {
        es->wait++;
    }
    if (improved) *improved = up;
    if (stop) *stop = es->wait >= es->cfg.patience;
    return IG_OK;
}

ig_plateau_config ig_plateau_defaults(void)
{
    return (ig_plateau_config){.maximize = false, .factor = 0.1f, .patience = 10, .threshold = 1e-4f, .cooldown = 0,
                               .min_lr = 0.0f};
}

ig_status ig_plateau_create(const ig_plateau_config *c, ig_plateau **out)
{
    if (!c || !out) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_plateau_create: NULL %s", c ? "out" : "config");
    if (!(c->factor > 0 && c->factor < 1) || c->patience < 0 || !(c->threshold >= 0) || c->cooldown < 0 ||
        !(c->min_lr >= 0))
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_plateau_create: needs factor in (0, 1), patience, cooldown, threshold "
                       "and min_lr >= 0 (got factor %g, patience %d, threshold %g, cooldown %d, min_lr %g)",
                       c->factor, c->patience, c->threshold, c->cooldown, c->min_lr);
    ig_plateau *p = calloc(1, sizeof *p);
    if (!p) return ig_fail(IG_ERR_OUT_OF_MEMORY, "ig_plateau_create: out of memory");
    p->cfg = *c;
    *out = p;
    return IG_OK;
}

void ig_plateau_destroy(ig_plateau *p) { free(p); }

ig_status ig_plateau_update(ig_plateau *p, ig_trainer *t, float metric, bool *reduced)
{
    if (!p || !t) return ig_fail(IG_ERR_INVALID_ARGUMENT, "ig_plateau_update: NULL %s", p ? "trainer" : "plateau");
    if (reduced) *reduced = false;
    if (!isnan(metric) && (!p->seen || better(metric, p->best, p->cfg.maximize, 0, p->cfg.threshold))) {
        p->best = metric;
        p->seen = true;
        p->bad = 0;
    } else {
        p->bad++;
    }
    if (p->cooldown_left > 0) {
        p->cooldown_left--;
        p->bad = 0; /* epochs in cooldown do not count */
    }
    if (p->bad > p->cfg.patience) {
        float lr = ig_trainer_learning_rate(t), next = lr * p->cfg.factor;
        if (next < p->cfg.min_lr) next = p->cfg.min_lr;
        if (lr - next > 1e-8f) {
            IG_TRY(ig_trainer_set_learning_rate(t, next));
            if (reduced) *reduced = true;
        }
        p->cooldown_left = p->cfg.cooldown;
        p->bad = 0;
    }
    return IG_OK;
}

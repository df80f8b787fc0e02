/* lbfgs.c — see lbfgs.h. The algorithm is Nocedal & Wright's (two-loop recursion, Algorithm
 * 7.4; line search, Algorithms 3.5/3.6) with torch.optim.LBFGS's choices: initial scaling
 * H_diag = yᵀs / yᵀy, no memory update when yᵀs ≤ 1e-10, a first step of
 * min(1, 1/‖g‖₁)·lr, its stopping tests in its order, and its strong-Wolfe search (cubic
 * interpolation clamped to bounds, and the zoom's insufficient-progress rule). */
#include "train/lbfgs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ig_lbfgs {
    ig_backend *be;
    void *params, *grads;
    size_t n, bytes;
    int max_iter, max_eval, history;
    double tol_grad, tol_change;
    bool wolfe;
    /* persists across steps, as PyTorch's optimizer state */
    int64_t n_iter;      /* iterations over all steps */
    double t, h_diag;    /* last step length; initial inverse-Hessian scale */
    double *d, *prev_g;  /* last direction; gradient where the last iteration started */
    double **s_hist, **y_hist, *ro; /* a ring of `history` pairs (allocated as filled) */
    int head, count;     /* the oldest pair's slot; pairs held */
    /* scratch */
    float *x, *xt, *g32;  /* parameters (as on the device); a trial point; a gradient download */
    double *g, *al;       /* the current gradient; the two-loop's alphas */
    double *ls_new, *ls_prev, *ls_b[2]; /* line-search gradients: trial, previous, bracket ends */
};

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static double abs_max(const double *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

static void copy(double *dst, const double *src, size_t n) { memcpy(dst, src, n * sizeof *dst); }

void ig_lbfgs_destroy(ig_lbfgs *s)
{
    if (!s) return;
    for (int k = 0; k < s->history && s->s_hist; k++) free(s->s_hist[k]); /* y shares s's block */
    free(s->s_hist);
    free(s->y_hist);
    free(s->ro);
    free(s->al);
    free(s->d);
    free(s->prev_g);
    free(s->g);
    free(s->x);
    free(s->xt);
    free(s->g32);
    free(s->ls_new);
    free(s->ls_prev);
    free(s->ls_b[0]);
    free(s->ls_b[1]);
    free(s);
}

ig_status ig_lbfgs_create(const ig_trainer_config *cfg, ig_backend *be, void *params, void *grads, size_t bytes,
                          ig_lbfgs **out)
{
    *out = NULL;
    ig_lbfgs *s = calloc(1, sizeof *s);
    if (!s) return ig_fail(IG_ERR_OUT_OF_MEMORY, "L-BFGS: out of memory");
    size_t n = bytes / sizeof(float), nn = n ? n : 1;
    *s = (ig_lbfgs){
        .be = be, .params = params, .grads = grads, .n = n, .bytes = bytes,
        .max_iter = cfg->lbfgs_max_iter,
        .max_eval = cfg->lbfgs_max_eval ? cfg->lbfgs_max_eval : cfg->lbfgs_max_iter * 5 / 4,
        .history = cfg->lbfgs_history,
        .tol_grad = cfg->lbfgs_tolerance_grad, .tol_change = cfg->lbfgs_tolerance_change,
        .wolfe = cfg->lbfgs_line_search == IG_LINE_SEARCH_STRONG_WOLFE,
        .h_diag = 1,
    };
    s->s_hist = calloc((size_t)s->history, sizeof *s->s_hist);
    s->y_hist = calloc((size_t)s->history, sizeof *s->y_hist);
    s->ro = calloc((size_t)s->history, sizeof *s->ro);
    s->al = calloc((size_t)s->history, sizeof *s->al);
    s->d = calloc(nn, sizeof *s->d);
    s->prev_g = calloc(nn, sizeof *s->prev_g);
    s->g = calloc(nn, sizeof *s->g);
    s->x = calloc(nn, sizeof *s->x);
    s->xt = calloc(nn, sizeof *s->xt);
    s->g32 = calloc(nn, sizeof *s->g32);
    bool ok = s->s_hist && s->y_hist && s->ro && s->al && s->d && s->prev_g && s->g && s->x && s->xt && s->g32;
    if (ok && s->wolfe) {
        s->ls_new = calloc(nn, sizeof(double));
        s->ls_prev = calloc(nn, sizeof(double));
        s->ls_b[0] = calloc(nn, sizeof(double));
        s->ls_b[1] = calloc(nn, sizeof(double));
        ok = s->ls_new && s->ls_prev && s->ls_b[0] && s->ls_b[1];
    }
    if (!ok) {
        ig_lbfgs_destroy(s);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "L-BFGS: cannot allocate its state for %zu parameters", n);
    }
    *out = s;
    return IG_OK;
}

/* Loss and gradient at the parameters x: upload, one closure run, download. */
static ig_status evaluate(ig_lbfgs *s, const float *x, ig_lbfgs_closure f, void *arg, double *loss, double *g)
{
    ig_backend *be = s->be;
    IG_TRY(be->upload(be, s->params, x, s->bytes));
    float l;
    IG_TRY(f(arg, &l));
    IG_TRY(be->download(be, s->g32, s->grads, s->bytes));
    for (size_t i = 0; i < s->n; i++) g[i] = s->g32[i];
    *loss = l;
    return IG_OK;
}

/* dst = x + t·d, rounded to the parameters' f32. */
static void step_to(const ig_lbfgs *s, double t, float *dst)
{
    for (size_t i = 0; i < s->n; i++) dst[i] = (float)((double)s->x[i] + t * s->d[i]);
}

/* The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to [lo, hi];
 * the middle of [lo, hi] when the cubic has no minimum. */
static double cubic(double x1, double f1, double g1, double x2, double f2, double g2, double lo, double hi)
{
    double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2), d2sq = d1 * d1 - g1 * g2;
    if (!(d2sq >= 0)) return (lo + hi) / 2;
    double d2 = sqrt(d2sq);
    double m = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                        : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return fmin(fmax(m, lo), hi);
}

/* Strong-Wolfe line search from x along d, starting at step *t, where the loss is f, the
 * gradient s->g and the directional derivative gtd. On return *t, *f and s->g are those of
 * the accepted point; *evals counts the closure runs. */
static ig_status strong_wolfe(ig_lbfgs *s, ig_lbfgs_closure fn, void *arg, double gtd, double *t_io, double *f_io,
                              int *evals)
{
    const double c1 = 1e-4, c2 = 0.9, tol = 1e-9;
    const int max_ls = 25;
    const size_t n = s->n;
    const double f = *f_io, d_norm = abs_max(s->d, n);
    double *gn = s->ls_new, *gp = s->ls_prev, **bg = s->ls_b;
    double t = *t_io, f_new, br[2], bf[2], bgtd[2] = {0, 0};
    step_to(s, t, s->xt);
    IG_TRY(evaluate(s, s->xt, fn, arg, &f_new, gn));
    int ev = 1, ls_iter = 0;
    double gtd_new = dot(gn, s->d, n), t_prev = 0, f_prev = f, gtd_prev = gtd;
    copy(gp, s->g, n);
    bool done = false, bracketed = false;
    /* bracketing: grow the step until an interval holding a Wolfe point is found */
    while (ls_iter < max_ls) {
        bool rise = f_new > f + c1 * t * gtd || (ls_iter > 1 && f_new >= f_prev);
        if (!rise && fabs(gtd_new) <= -c2 * gtd) { /* the trial satisfies both conditions */
            br[0] = br[1] = t, bf[0] = bf[1] = f_new;
            copy(bg[0], gn, n);
            done = bracketed = true;
            break;
        }
        if (rise || gtd_new >= 0) { /* a minimum lies between the previous trial and this one */
            br[0] = t_prev, bf[0] = f_prev, bgtd[0] = gtd_prev;
            br[1] = t, bf[1] = f_new, bgtd[1] = gtd_new;
            copy(bg[0], gp, n);
            copy(bg[1], gn, n);
            bracketed = true;
            break;
        }
        /* still descending: extrapolate, at least 1% beyond t and at most 10·t */
        double lo = t + 0.01 * (t - t_prev), hi = t * 10, prev = t;
        t = cubic(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, lo, hi);
        t_prev = prev;
        f_prev = f_new;
        copy(gp, gn, n);
        gtd_prev = gtd_new;
        step_to(s, t, s->xt);
        IG_TRY(evaluate(s, s->xt, fn, arg, &f_new, gn));
        ev++;
        gtd_new = dot(gn, s->d, n);
        ls_iter++;
    }
    if (!bracketed) { /* max_ls reached: the better of the start and the last trial */
        br[0] = 0, bf[0] = f;
        br[1] = t, bf[1] = f_new;
        copy(bg[0], s->g, n);
        copy(bg[1], gn, n);
    }
    /* zoom: shrink the bracket; lo is the end with the lower loss */
    int lo = bf[0] <= bf[1] ? 0 : 1, hi = 1 - lo;
    bool insufficient = false;
    while (!done && ls_iter < max_ls) {
        if (fabs(br[1] - br[0]) * d_norm < tol) break;
        double bmin = fmin(br[0], br[1]), bmax = fmax(br[0], br[1]);
        t = cubic(br[0], bf[0], bgtd[0], br[1], bf[1], bgtd[1], bmin, bmax);
        /* a trial too close to an end makes little progress: the second time in a row (or
         * at an end), move it to 0.1 of the bracket's width inside */
        double eps = 0.1 * (bmax - bmin);
        if (fmin(bmax - t, t - bmin) < eps) {
            if (insufficient || t >= bmax || t <= bmin) {
                t = fabs(t - bmax) < fabs(t - bmin) ? bmax - eps : bmin + eps;
                insufficient = false;
            } else {
                insufficient = true;
            }
        } else {
            insufficient = false;
        }
        step_to(s, t, s->xt);
        IG_TRY(evaluate(s, s->xt, fn, arg, &f_new, gn));
        ev++;
        gtd_new = dot(gn, s->d, n);
        ls_iter++;
        if (f_new > f + c1 * t * gtd || f_new >= bf[lo]) {
            br[hi] = t, bf[hi] = f_new, bgtd[hi] = gtd_new;
            copy(bg[hi], gn, n);
            lo = bf[0] <= bf[1] ? 0 : 1;
            hi = 1 - lo;
        } else {
            if (fabs(gtd_new) <= -c2 * gtd) {
                done = true;
            } else if (gtd_new * (br[hi] - br[lo]) >= 0) { /* the old low end becomes the high end */
                br[hi] = br[lo], bf[hi] = bf[lo], bgtd[hi] = bgtd[lo];
                copy(bg[hi], bg[lo], n);
            }
            br[lo] = t, bf[lo] = f_new, bgtd[lo] = gtd_new;
            copy(bg[lo], gn, n);
        }
    }
    *t_io = br[lo];
    *f_io = bf[lo];
    copy(s->g, bg[lo], n);
    *evals = ev;
    return IG_OK;
}

/* d = −H·g by the two-loop recursion over the stored pairs, oldest first in the ring. */
static void two_loop(ig_lbfgs *s)
{
    const size_t n = s->n;
    double *q = s->d;
    for (size_t i = 0; i < n; i++) q[i] = -s->g[i];
    for (int k = s->count - 1; k >= 0; k--) {
        int j = (s->head + k) % s->history;
        s->al[k] = dot(s->s_hist[j], q, n) * s->ro[j];
        for (size_t i = 0; i < n; i++) q[i] -= s->al[k] * s->y_hist[j][i];
    }
    for (size_t i = 0; i < n; i++) q[i] *= s->h_diag;
    for (int k = 0; k < s->count; k++) {
        int j = (s->head + k) % s->history;
        double be = dot(s->y_hist[j], q, n) * s->ro[j];
        for (size_t i = 0; i < n; i++) q[i] += (s->al[k] - be) * s->s_hist[j][i];
    }
}

/* Adds the pair (s = t·d, y = g − prev_g) when its curvature yᵀs is positive enough,
 * dropping the oldest pair when the history is full. */
static ig_status update_memory(ig_lbfgs *s)
{
    const size_t n = s->n;
    double ys = 0, yy = 0;
    for (size_t i = 0; i < n; i++) {
        double y = s->g[i] - s->prev_g[i];
        ys += y * s->d[i] * s->t;
        yy += y * y;
    }
    if (!(ys > 1e-10)) return IG_OK;
    int j;
    if (s->count == s->history) {
        j = s->head;
        s->head = (s->head + 1) % s->history;
    } else {
        j = (s->head + s->count++) % s->history;
    }
    if (!s->s_hist[j]) {
        if (!(s->s_hist[j] = malloc(2 * (n ? n : 1) * sizeof(double)))) {
            s->count--; /* the slot stays unused */
            return ig_fail(IG_ERR_OUT_OF_MEMORY, "L-BFGS: cannot allocate its history");
        }
        s->y_hist[j] = s->s_hist[j] + n;
    }
    for (size_t i = 0; i < n; i++) {
        s->s_hist[j][i] = s->d[i] * s->t;
        s->y_hist[j][i] = s->g[i] - s->prev_g[i];
    }
    s->ro[j] = 1 / ys;
    s->h_diag = ys / yy;
    return IG_OK;
}

ig_status ig_lbfgs_step(ig_lbfgs *s, double lr, ig_lbfgs_closure f, void *arg, float *loss_out)
{
    const size_t n = s->n;
    ig_backend *be = s->be;
    /* the parameters may have been set since the last step */
    IG_TRY(be->download(be, s->x, s->params, s->bytes));
    double loss;
    IG_TRY(evaluate(s, s->x, f, arg, &loss, s->g));
    *loss_out = (float)loss;
    int evals = 1;
    if (abs_max(s->g, n) <= s->tol_grad) return IG_OK;
    for (int it = 1; it <= s->max_iter; it++) {
        s->n_iter++;
        if (s->n_iter == 1) {
            for (size_t i = 0; i < n; i++) s->d[i] = -s->g[i];
            s->count = s->head = 0;
            s->h_diag = 1;
        } else {
            IG_TRY(update_memory(s));
            two_loop(s);
        }
        copy(s->prev_g, s->g, n);
        double prev_loss = loss;
        if (s->n_iter == 1) {
            double l1 = 0;
            for (size_t i = 0; i < n; i++) l1 += fabs(s->g[i]);
            s->t = fmin(1, 1 / l1) * lr;
        } else {
            s->t = lr;
        }
        double gtd = dot(s->g, s->d, n);
        if (gtd > -s->tol_change) break; /* not a descent direction */
        int ls_evals = 0;
        bool small_grad = false;
        if (s->wolfe) {
            IG_TRY(strong_wolfe(s, f, arg, gtd, &s->t, &loss, &ls_evals));
            step_to(s, s->t, s->x);
            IG_TRY(be->upload(be, s->params, s->x, s->bytes));
            small_grad = abs_max(s->g, n) <= s->tol_grad;
        } else {
            step_to(s, s->t, s->x);
            if (it != s->max_iter) { /* the last iteration's point is evaluated by the next step */
                IG_TRY(evaluate(s, s->x, f, arg, &loss, s->g));
                small_grad = abs_max(s->g, n) <= s->tol_grad;
                ls_evals = 1;
            } else {
                IG_TRY(be->upload(be, s->params, s->x, s->bytes));
            }
        }
        evals += ls_evals;
        if (it == s->max_iter || evals >= s->max_eval || small_grad) break;
        if (abs_max(s->d, n) * fabs(s->t) <= s->tol_change) break; /* the step barely moves */
        if (fabs(loss - prev_loss) < s->tol_change) break;         /* the loss barely moves */
    }
    return IG_OK;
}

ig_lbfgs_state ig_lbfgs_get_state(const ig_lbfgs *s)
{
    return (ig_lbfgs_state){.n_iter = s->n_iter, .t = s->t, .h_diag = s->h_diag, .count = s->count, .n = s->n,
                            .d = s->d, .prev_g = s->prev_g};
}

const double *ig_lbfgs_pair(const ig_lbfgs *s, int k, double *ro)
{
    int j = (s->head + k) % s->history;
    *ro = s->ro[j];
    return s->s_hist[j]; /* y follows s in the pair's block */
}

ig_status ig_lbfgs_set_state(ig_lbfgs *s, const ig_lbfgs_state *st, const double *const *pairs, const double *ro)
{
    if (st->n != s->n || st->count < 0 || st->count > s->history)
        return ig_fail(IG_ERR_INTERNAL, "L-BFGS: a state of %zu values and %d pairs for %zu values and a history of %d",
                       st->n, st->count, s->n, s->history);
    const size_t n = s->n;
    for (int k = 0; k < st->count; k++) /* pairs go to slots 0..count-1, the oldest at head 0 */
        if (!s->s_hist[k]) {
            if (!(s->s_hist[k] = malloc(2 * (n ? n : 1) * sizeof(double))))
                return ig_fail(IG_ERR_OUT_OF_MEMORY, "L-BFGS: cannot allocate its history");
            s->y_hist[k] = s->s_hist[k] + n;
        }
    for (int k = 0; k < st->count; k++) {
        memcpy(s->s_hist[k], pairs[k], 2 * n * sizeof(double));
        s->ro[k] = ro[k];
    }
    s->head = 0;
    s->count = st->count;
    s->n_iter = st->n_iter;
    s->t = st->t;
    s->h_diag = st->h_diag;
    copy(s->d, st->d, n);
    copy(s->prev_g, st->prev_g, n);
    return IG_OK;
}

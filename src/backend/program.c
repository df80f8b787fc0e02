/* program.c — compiling a graph into a program (place IO, plan the arena, allocate) and
 * running it on the context's backend. */
#include "backend/backend.h"
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

ig_status ig_graph_materialize(ig_graph *g, int v, int *out)
{
    const ig_val *val = &g->vals[v];
    if (val->node >= 0 && val->alias_of < 0 && val->buf == IG_BUF_NONE) {
        *out = v;
        return IG_OK;
    }
    return ig_graph_node(g, IG_OP_COPY, &v, 1, NULL, "copy", out);
}

ig_status ig_program_create(ig_ctx *ctx, ig_graph *g, ig_program **out)
{
    ig_backend *be = ctx->backend;
    ig_program *p = calloc(1, sizeof *p);
    if (!p) {
        ig_graph_free(g);
        return ig_fail(IG_ERR_OUT_OF_MEMORY, "program: out of memory");
    }
    p->ctx = ctx;
    p->g = *g;
    ig_graph_init(g);
    ig_status st = IG_OK;
    for (int i = 0; i < p->g.n_nodes; i++) {
        const ig_node *n = &p->g.nodes[i];
        if (n->op != IG_OP_NOP && !be->supports(be, n)) {
            st = ig_fail(IG_ERR_UNSUPPORTED, "the %s backend has no kernel for op %s ('%s')", be->name,
                         ig_op_get(n->op)->name, n->name);
            goto fail;
        }
    }
    for (int v = 0; v < p->g.n_vals; v++) {
        ig_val *val = &p->g.vals[v];
        if (val->buf != IG_BUF_IO || val->alias_of >= 0) continue;
        val->offset = p->io_bytes;
        p->io_bytes += ig_align(ig_val_bytes(val));
    }
    if (be->streams > 1) ig_schedule_streams(&p->g);
    if ((st = ig_plan_memory(&p->g, &p->plan)) != IG_OK) goto fail;
    p->arena_bytes = p->plan.arena_bytes;
    p->arena = be->alloc(be, p->arena_bytes);
    /* a program without IO (a step over a resident dataset) needs one slot, and one capture */
    p->io_slots = be->upload_io && p->io_bytes ? 2 : 1;
    for (int i = 0; i < p->io_slots; i++) p->io[i] = be->alloc(be, p->io_bytes);
    if (!p->arena || !p->io[0] || (p->io_slots == 2 && !p->io[1])) {
        st = ig_fail(IG_ERR_OUT_OF_MEMORY, "program: cannot allocate %zu bytes of arena and %zu of IO on %s",
                     p->arena_bytes, p->io_bytes, be->name);
        goto fail;
    }
    ig_stats_arena(ctx, p->plan.arena_bytes, p->plan.unplanned_bytes);
    *out = p;
    return IG_OK;
fail:
    ig_program_destroy(p);
    return st;
}

void ig_program_destroy(ig_program *p)
{
    if (!p) return;
    ig_backend *be = p->ctx->backend;
    if (be->program_release) be->program_release(be, p);
    if (p->arena) be->free(be, p->arena, p->arena_bytes);
    for (int i = 0; i < 2; i++)
        if (p->io[i]) be->free(be, p->io[i], p->io_bytes);
    ig_graph_free(&p->g);
    free(p);
}

static ig_status run(ig_program *p, void *const *ext, bool continues)
{
    void *bases[IG_BUF_COUNT];
    memcpy(bases, ext, sizeof bases);
    bases[IG_BUF_ARENA] = p->arena;
    bases[IG_BUF_IO] = p->io[p->io_next];
    ig_backend *be = p->ctx->backend;
    IG_TRY(be->run(be, p, bases, continues));
    p->io_last = p->io_next;
    p->io_next = (p->io_next + 1) % p->io_slots;
    return IG_OK;
}

ig_status ig_program_run_ext(ig_program *p, void *const *ext) { return run(p, ext, false); }
ig_status ig_program_continue(ig_program *p, void *const *ext) { return run(p, ext, true); }

ig_status ig_program_run(ig_program *p, void *params, void *grads, void *state)
{
    void *ext[IG_BUF_COUNT] = {NULL};
    ext[IG_BUF_PARAMS] = params;
    ext[IG_BUF_GRADS] = grads;
    ext[IG_BUF_STATE] = state;
    return ig_program_run_ext(p, ext);
}

static ig_status io_check(ig_program *p, int v, size_t bytes, const char *what)
{
    if (v < 0 || v >= p->g.n_vals || p->g.vals[v].buf != IG_BUF_IO)
        return ig_fail(IG_ERR_INTERNAL, "program %s: value %d is not an IO value", what, v);
    if (bytes != ig_val_bytes(&p->g.vals[v]))
        return ig_fail(IG_ERR_INTERNAL, "program %s: %zu bytes for '%s' of %zu", what, bytes,
                       p->g.vals[v].name, ig_val_bytes(&p->g.vals[v]));
    return IG_OK;
}

ig_status ig_program_write(ig_program *p, int v, const void *src, size_t bytes)
{
    IG_TRY(io_check(p, v, bytes, "write"));
    ig_backend *be = p->ctx->backend;
    void *dst = (char *)p->io[p->io_next] + p->g.vals[v].offset;
    return be->upload_io ? be->upload_io(be, p, p->io_next, dst, src, bytes) : be->upload(be, dst, src, bytes);
}

ig_status ig_program_read(ig_program *p, int v, void *dst, size_t bytes)
{
    IG_TRY(io_check(p, v, bytes, "read"));
    ig_backend *be = p->ctx->backend;
    return be->download(be, dst, (char *)p->io[p->io_last] + p->g.vals[v].offset, bytes);
}

/* cpu_step.c — step bookkeeping: the loss ring. */
#include "backend/cpu/cpu.h"

ig_status ig_cpu_record_loss(const ig_graph *g, const ig_node *n, void *const *bases)
{
    const ig_opt_hyper *h = cpu_ptr(g, n->in[1], bases);
    CPU_F32(2)[h->step % IG_LOSS_RING] = CPU_F32(0)[0];
    return IG_OK;
}

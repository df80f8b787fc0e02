/* optim.c — optimizer updates as graph ops. Each updates every parameter in one run over
 * the flat parameter buffer (one launch), reading hyperparameters and the step counter
 * from an ig_opt_hyper in memory, so a new learning rate never changes the program. A
 * trainer may split the update in two nodes over two ranges of the flat buffers (attrs.i[0]
 * = 2, attrs.i[1] = the node's place; ig_opt_advances): the parameters whose gradients come
 * last, and the rest, which can be updated while those are computed.
 * Every one reads, before the hyperparameter block, the weight-decay scale of each
 * IG_DECAY_CHUNK parameters (parameter groups: 0 exempts a parameter from decay).
 *   SGD  (params [p], grads [p], momentum [p], decay, hyper) -> nothing (updates in place)
 *   ADAM (params, grads, m, v, decay, hyper) -> nothing; AdamW when hyper.decoupled
 *   NADAM (params, grads, m, v, decay, hyper) -> nothing; advances hyper.mu_product
 *   RMSPROP (params, grads, square_avg, momentum_buffer, grad_avg, decay, hyper)
 *   ADAGRAD (params, grads, sum, decay, hyper)
 *   ADADELTA (params, grads, square_avg, acc_delta, decay, hyper)
 *   RECORD_LOSS, below: keeps the step's loss in the loss ring */
#include "ops/ops.h"
#include "ops/opt_math.h"

static ig_status flat_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    size_t p = ig_shape_numel(&ig_in(g, n, 0)->shape);
    for (int k = 1; k < n->n_in - 2; k++)
        if (ig_shape_numel(&ig_in(g, n, k)->shape) != p)
            return ig_fail(IG_ERR_INTERNAL, "%s: state %d does not match the parameters", n->name, k);
    if (ig_shape_numel(&ig_in(g, n, n->n_in - 2)->shape) < (p + IG_DECAY_CHUNK - 1) / IG_DECAY_CHUNK)
        return ig_fail(IG_ERR_INTERNAL, "%s: too few weight-decay scales", n->name);
    if (ig_val_bytes(ig_in(g, n, n->n_in - 1)) < sizeof(ig_opt_hyper))
        return ig_fail(IG_ERR_INTERNAL, "%s: hyperparameter block too small", n->name);
    return IG_OK;
}

static double flat_flops(const ig_graph *g, const ig_node *n)
{
    return 10.0 * (double)ig_shape_numel(&ig_in(g, n, 0)->shape);
}

static ig_status record_infer(const ig_graph *g, const ig_node *n, ig_shape *s, ig_dtype *t)
{
    if (ig_shape_numel(&ig_in(g, n, 0)->shape) != 1 || ig_shape_numel(&ig_in(g, n, 2)->shape) != IG_LOSS_RING)
        return ig_fail(IG_ERR_INTERNAL, "%s: expects a scalar loss and a ring of %d", n->name, IG_LOSS_RING);
    return IG_OK;
}

static double no_flops(const ig_graph *g, const ig_node *n) { return 0; }

const ig_op_def ig_op_sgd_def = {"sgd", 5, 5, 0, flat_infer, NULL, flat_flops, false, false, true};
const ig_op_def ig_op_adam_def = {"adam", 6, 6, 0, flat_infer, NULL, flat_flops, false, false, true};
const ig_op_def ig_op_nadam_def = {"nadam", 6, 6, 0, flat_infer, NULL, flat_flops, false, false, true};
const ig_op_def ig_op_rmsprop_def = {"rmsprop", 7, 7, 0, flat_infer, NULL, flat_flops, false, false, true};
const ig_op_def ig_op_adagrad_def = {"adagrad", 5, 5, 0, flat_infer, NULL, flat_flops, false, false, true};
const ig_op_def ig_op_adadelta_def = {"adadelta", 6, 6, 0, flat_infer, NULL, flat_flops, false, false, true};
/* RECORD_LOSS (loss [1], hyper, ring [IG_LOSS_RING]): ring[hyper.step % IG_LOSS_RING] = loss,
 * before the optimizer advances the counter. */
const ig_op_def ig_op_record_loss_def = {"record_loss", 3, 3, 0, record_infer, NULL, no_flops, false, false, true};

/* batchnorm.h — what the builder and the backends need of the batch-normalisation ops
 * (src/ops/batchnorm.c): the checks of a layer's arguments and a node's geometry. */
#ifndef IG_BATCHNORM_H
#define IG_BATCHNORM_H

#include "graph/graph.h"
#include "ops/bn_math.h"

/* The arguments of a batch-norm layer named `layer`: x 2-D or 4-D, momentum in [0, 1], eps a
 * finite number > 0. The builder checks them before it creates the layer's parameters, and
 * shape inference again for every node. */
ig_status ig_bn_check(const char *layer, const ig_shape *x, float momentum, float eps);

/* The geometry of a BATCHNORM, BATCHNORM_GRAD or BATCHNORM_DX node, from its x (input 0 of
 * BATCHNORM, input 1 of the others). */
ig_bn_geom ig_bn_geom_of(const ig_graph *g, const ig_node *n);

#endif /* IG_BATCHNORM_H */

/* pool.h — the geometry of a POOL2D or POOL2D_GRAD node, for the backends' dispatch. */
#ifndef IG_POOL_H
#define IG_POOL_H

#include "graph/graph.h"
#include "ops/pool_math.h"

/* From the node's NCHW input (input 0 of POOL2D, input 1 of POOL2D_GRAD) and attributes;
 * *planes receives n·c. */
ig_pool_geom ig_pool_geom_of(const ig_graph *g, const ig_node *n, int64_t *planes);

#endif /* IG_POOL_H */

/* monitor.h — the state of early stopping and reduce-on-plateau, for library code that saves
 * and restores it (src/train/checkpoint.c). */
#ifndef IG_MONITOR_H
#define IG_MONITOR_H

#include "core/core.h"

struct ig_early_stopping {
    ig_early_stopping_config cfg;
    float best;
    bool seen;
    int wait;
};

struct ig_plateau {
    ig_plateau_config cfg;
    float best;
    bool seen;
    int bad, cooldown_left;
};

#endif /* IG_MONITOR_H */

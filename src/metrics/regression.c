/* regression.c — MSE, RMSE, MAE and R² of predictions against targets, each averaged
 * uniformly over the outputs (scikit-learn's multioutput="uniform_average"). */
#include "metrics.h"

#include <math.h>

ig_status ig_metric_regression(const float *targets, const float *predictions, int64_t n, int64_t outputs,
                               ig_regression_metrics *out)
{
    const char *fn = "ig_metric_regression";
    if (!targets || !predictions || !out)
        return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: NULL %s", fn,
                       !targets ? "targets" : !predictions ? "predictions" : "out");
    IG_TRY(ig_metric_check_n(fn, n));
    if (outputs < 1) return ig_fail(IG_ERR_INVALID_ARGUMENT, "%s: outputs is %lld (must be >= 1)", fn, (long long)outputs);
    IG_TRY(ig_metric_check_finite(fn, "target", targets, n, outputs, outputs));
    IG_TRY(ig_metric_check_finite(fn, "prediction", predictions, n, outputs, outputs));
    double mse = 0, rmse = 0, mae = 0, r2 = 0;
    for (int64_t j = 0; j < outputs; j++) {
        double mean = 0, sse = 0, sae = 0, sst = 0;
        for (int64_t i = 0; i < n; i++) mean += targets[i * outputs + j];
        mean /= (double)n;
        for (int64_t i = 0; i < n; i++) {
            double t = targets[i * outputs + j], e = (double)predictions[i * outputs + j] - t;
            sse += e * e;
            sae += fabs(e);
            sst += (t - mean) * (t - mean);
        }
        mse += sse / (double)n;
        rmse += sqrt(sse / (double)n);
        mae += sae / (double)n;
        /* constant targets: R² is 1 for an exact fit, else 0 (force_finite) */
        r2 += sst > 0 ? 1.0 - sse / sst : sse == 0 ? 1.0 : 0.0;
    }
    double k = (double)outputs;
    *out = (ig_regression_metrics){.mse = mse / k, .rmse = rmse / k, .mae = mae / k, .r2 = n < 2 ? NAN : r2 / k};
    return IG_OK;
}

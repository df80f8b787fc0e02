/* progress.c — the epoch bar and summary lines. */
#include "progress.h"
#include "cli.h"

#include <math.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

const char *const progress_modes[] = {"auto", "bar", "plain", "off", NULL};

void progress_init(progress *p, FILE *f, int mode)
{
    memset(p, 0, sizeof *p);
    p->f = f;
    p->off = mode == PROGRESS_OFF;
    p->bar = mode == PROGRESS_BAR || (mode == PROGRESS_AUTO && isatty(fileno(f)));
    p->shown_acc = NAN;
}

void progress_set_accuracy(progress *p, const char *label, double acc)
{
    p->acc_label = label;
    p->shown_acc = acc;
}

void progress_epoch_start(progress *p, int epoch, int epochs, int64_t steps)
{
    p->epoch = epoch;
    p->epochs = epochs;
    p->steps = steps;
    p->t0 = cli_now();
}

static int columns(FILE *f)
{
    struct winsize w;
    return ioctl(fileno(f), TIOCGWINSZ, &w) == 0 && w.ws_col >= 40 ? w.ws_col : 100;
}

static void clock_str(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

void progress_update(progress *p, int64_t done, int64_t samples, double loss)
{
    if (!p->bar || p->off || done < 1) return;
    double dt = cli_now() - p->t0;
    char eta[32], acc[48] = "", stats[192];
    clock_str(dt / (double)done * (double)(p->steps - done), eta, sizeof eta);
    if (!isnan(p->shown_acc)) snprintf(acc, sizeof acc, "  %s %.4f", p->acc_label, p->shown_acc);
    int digits = snprintf(NULL, 0, "%lld", (long long)p->steps);
    /* fixed-width fields: the line, and so the bar, keeps its length through the epoch */
    snprintf(stats, sizeof stats, " %*lld/%lld %7.0f samples/s  loss %7.4f%s  ETA %7s", digits, (long long)done,
             (long long)p->steps, dt > 0 ? (double)samples / dt : 0.0, loss, acc, eta);
    char head[32];
    int hl = snprintf(head, sizeof head, "epoch %d/%d ", p->epoch, p->epochs);
    /* the bar takes what the terminal's width leaves, between 10 and 30 cells */
    int width = columns(p->f) - 1 - hl - (int)strlen(stats) - 2;
    width = width > 30 ? 30 : width;
    char bar[40] = "";
    if (width >= 10) {
        int fill = (int)((double)width * (double)done / (double)p->steps);
        for (int i = 0; i < width; i++) bar[i] = i < fill ? '=' : i == fill ? '>' : '.';
        bar[width] = '\0';
    }
    fprintf(p->f, "\r%s%s%s%s%s\033[K", head, width >= 10 ? "[" : "", bar, width >= 10 ? "]" : "", stats);
    fflush(p->f);
}

void progress_epoch_end(progress *p, const char *line)
{
    if (p->off) return;
    fprintf(p->f, "%s%s\n", p->bar ? "\r\033[K" : "", line);
    fflush(p->f);
}

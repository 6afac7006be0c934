#!/usr/bin/env python3
"""Plots a soak's samples (bench/soak.sh): RSS and open descriptors, and p50
and p99 latency (log scale) with the throughput, over time, with the warm-up
shaded.

    soak_plot.py <samples.csv> <out.png> <warm-up seconds> [title]
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    samples, out, warmup = sys.argv[1], sys.argv[2], float(sys.argv[3])
    title = sys.argv[4] if len(sys.argv) > 4 else "BFF soak"
    with open(samples, newline="") as f:
        rows = list(csv.DictReader(f))
    t = [float(r["seconds"]) / 60 for r in rows]
    rss = [int(r["rss_kib"]) / 1024 for r in rows]
    fds = [int(r["fds"]) for r in rows]
    p50 = [float(r["p50_ms"]) for r in rows]
    p99 = [float(r["p99_ms"]) for r in rows]
    # Requests per second in each window (a window ends at its sample).
    starts = [0.0] + [float(r["seconds"]) for r in rows[:-1]]
    rate = [
        int(r["requests"]) / max(float(r["seconds"]) - s, 1e-9)
        for r, s in zip(rows, starts)
    ]

    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(9, 6))
    for ax in (top, bottom):
        ax.axvspan(0, warmup / 60, color="0.9", label="warm-up")
        ax.grid(True, alpha=0.3)
    top.plot(t, rss, color="tab:blue", label="RSS (MiB)")
    top.set_ylabel("RSS (MiB)")
    top.set_ylim(bottom=0)
    fd_axis = top.twinx()
    fd_axis.plot(t, fds, color="tab:green", linestyle="--", label="open fds")
    fd_axis.set_ylabel("open descriptors")
    fd_axis.set_ylim(bottom=0)
    lines = top.get_legend_handles_labels()
    more = fd_axis.get_legend_handles_labels()
    top.legend(lines[0] + more[0], lines[1] + more[1], loc="lower right")
    bottom.plot(t, p99, color="tab:red", label="p99")
    bottom.plot(t, p50, color="tab:orange", label="p50")
    bottom.set_ylabel("latency (ms, log)")
    bottom.set_yscale("log")
    bottom.set_xlabel("minutes")
    rate_axis = bottom.twinx()
    rate_axis.plot(t, rate, color="0.6", linewidth=0.8, label="requests/s")
    rate_axis.set_ylabel("requests/s")
    rate_axis.set_ylim(bottom=0)
    lines = bottom.get_legend_handles_labels()
    more = rate_axis.get_legend_handles_labels()
    bottom.legend(lines[0] + more[0], lines[1] + more[1], loc="upper right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)


if __name__ == "__main__":
    main()

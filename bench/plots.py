"""PNG plots of a run (matplotlib, optional): throughput over time and the latency CDF."""

from pathlib import Path

SKIPPED = "plots skipped: matplotlib not installed"


def write_plots(results: dict, out_dir: Path) -> str:
    """throughput.png and latency_cdf.png in `out_dir`; returns what was written (or why not)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return SKIPPED
    timeline = results["logtrace"]["timeline"]
    figure, axes = plt.subplots(figsize=(8, 4))
    times = [point["t"] for point in timeline]
    for key, label in (
        ("records_per_s", "Kafka records consumed/s"),
        ("indexed_per_s", "documents indexed/s"),
    ):
        axes.plot(times, [point[key] for point in timeline], label=label)
    axes.axhline(results["ceilings"]["B"]["docs_per_s"], linestyle="--", color="grey", label="ceiling B")
    axes.set_xlabel("seconds since the first record")
    axes.set_ylabel("per second")
    axes.set_title(f"logtrace throughput ({results['config']['workers']} worker(s))")
    axes.legend()
    figure.tight_layout()
    figure.savefig(out_dir / "throughput.png", dpi=100)
    plt.close(figure)
    latencies = results["latency"]["latencies_ms"]
    figure, axes = plt.subplots(figsize=(8, 4))
    axes.plot(latencies, [(i + 1) / len(latencies) for i in range(len(latencies))], drawstyle="steps-post")
    axes.set_xlabel("produce -> searchable (ms)")
    axes.set_ylabel("fraction of markers")
    axes.set_title(f"latency CDF at {results['latency']['background_per_s']:,.0f} lines/s")
    axes.grid(True, alpha=0.3)
    figure.tight_layout()
    figure.savefig(out_dir / "latency_cdf.png", dpi=100)
    plt.close(figure)
    return "throughput.png, latency_cdf.png"

"""The drift report a person looks at: one PNG per feature (reference vs production) and an HTML index."""

import html
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

PLOTS_DIR = "plots"
INDEX_FILE = "index.html"


def save_plot(
    name: str,
    reference: npt.NDArray[np.float64],
    production: npt.NDArray[np.float64],
    caption: str,
    folder: Path,
) -> Path:
    """Overlaid densities of ``reference`` and ``production`` on shared bins; returns the PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    both = np.concatenate([reference, production])
    both = both[np.isfinite(both)]
    edges = (np.histogram_bin_edges(both, bins=30) if len(both) else np.linspace(0, 1, 31)).tolist()
    fig, ax = plt.subplots(figsize=(5, 3), dpi=80)
    # One filled outline per histogram, fixed margins: half the time of bars and tight_layout.
    common = {"bins": edges, "density": True, "alpha": 0.5, "histtype": "stepfilled"}
    ax.hist(reference, label=f"reference ({len(reference)})", **common)
    ax.hist(production, label=f"production ({len(production)})", **common)
    ax.set_title(f"{name}: {caption}", fontsize=9)
    ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.12)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    fig.savefig(path)
    plt.close(fig)
    return path


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def write_index(summary: dict[str, Any], folder: Path) -> Path:
    """``index.html``: the verdict, a table of features (drifted ones first) and every plot."""
    verdict = "DRIFT: " + ", ".join(summary["drifted"]) if summary["drift"] else "no drift"
    rows = sorted(summary["features"], key=lambda f: (not f["drift"], f["name"]))
    head = ("feature", "kind", "value", "threshold", "drift", "out of range", "missing")
    lines = [
        "<!doctype html><html><head><meta charset='utf-8'><title>drift report</title>",
        "<style>body{font-family:sans-serif}td,th{padding:2px 8px}.d{color:#b00;font-weight:bold}"
        "img{margin:4px}</style></head><body>",
        f"<h1>{html.escape(verdict)}</h1>",
        f"<p>model {_cell(summary['model']['name'])} v{_cell(summary['model']['version'])}; "
        f"{summary['window']['rows']} production rows vs {summary['reference']['rows']} training rows; "
        f"statistic {_cell(summary['statistic'])}</p>",
        "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>",
    ]
    for f in rows:
        cls = " class='d'" if f["drift"] else ""
        keys = ("name", "kind", "value", "threshold", "drift", "out_of_range_rate", "missing_rate")
        cells = [f[k] for k in keys]
        lines.append(f"<tr{cls}>" + "".join(f"<td>{_cell(c)}</td>" for c in cells) + "</tr>")
    p = summary["prediction"]
    lines.append(
        f"<tr{' class=d' if p['drift'] else ''}><td>prediction</td><td>numeric</td><td>{_cell(p['value'])}"
        f"</td><td>{_cell(p['threshold'])}</td><td>{p['drift']}</td><td></td><td></td></tr></table>"
    )
    if (perf := summary.get("performance")) is not None:
        lines.append(
            f"<p>labelled rows {perf['labelled_rows']}: RMSE {_cell(perf['rmse'])} (offline "
            f"{_cell(perf['offline_rmse'])}), MAE {_cell(perf['mae'])} (offline {_cell(perf['offline_mae'])})"
            f"{' <b>degraded</b>' if perf['degraded'] else ''}</p>"
        )
    plots = [f["plot"] for f in rows] + [p["plot"]]
    lines.extend(f"<img src='{html.escape(plot)}' alt='{html.escape(plot)}'>" for plot in plots)
    lines.append("</body></html>")
    path = folder / INDEX_FILE
    path.write_text("\n".join(lines) + "\n")
    return path

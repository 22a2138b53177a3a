"""Scaling curves of bench/scale_bench.py results as one SVG (no plotting library needed): each panel is
one figure against the scenario (clusters x workloads), one line per build label.
Usage: bench/scale_bench.py --plot OUT.svg LABEL=RESULT.json [LABEL=RESULT.json ...]"""
import json
import pathlib

PANELS = [
    ("create: p99 create -> every copy (s)", lambda r: r["create"]["p99_ms"] / 1000),
    ("create: copies/s (tmcd) and direct", lambda r: r["create"]["copies_per_s"]),
    ("tmcd RSS after create (MiB)", lambda r: r["create"]["tmcd_rss_kib"] / 1024),
    ("restart (SIGTERM) to converged (s)", lambda r: r["restart_sigterm"]["converged_s"]),
    ("applies after restart", lambda r: r["restart_sigterm"]["applies"]),
    ("one cluster hung: healthy p99 (s)", lambda r: r["dead"]["healthy_p99_ms"] / 1000),
]
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"]
W, H, PAD = 300, 190, 40


def panel(x0, y0, title, series, xlabels):
    out = [f'<text x="{x0 + W / 2}" y="{y0 - 8}" text-anchor="middle" font-size="12">{title}</text>',
           f'<rect x="{x0}" y="{y0}" width="{W}" height="{H}" fill="none" stroke="#999"/>']
    ymax = max([v for _, vs in series for v in vs if v == v] + [1e-9]) * 1.1
    n = len(xlabels)
    xs = [x0 + (i + 0.5) * W / n for i in range(n)]
    for k in range(5):
        v = ymax * k / 4
        y = y0 + H - H * k / 4
        out.append(f'<text x="{x0 - 4}" y="{y + 4}" text-anchor="end" font-size="9">{v:.3g}</text>')
        out.append(f'<line x1="{x0}" y1="{y}" x2="{x0 + W}" y2="{y}" stroke="#eee"/>')
    for i, lab in enumerate(xlabels):
        out.append(f'<text x="{xs[i]}" y="{y0 + H + 14}" text-anchor="middle" font-size="9">{lab}</text>')
    for j, (label, vs) in enumerate(series):
        pts = [(xs[i], y0 + H - H * v / ymax) for i, v in enumerate(vs) if v == v]
        c = COLORS[j % len(COLORS)]
        out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="' +
                   " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{c}"/>' for x, y in pts]
    return out


def main(out_path, args):
    runs = {}
    for a in args:
        label, path = a.split("=", 1)
        r = json.loads(pathlib.Path(path).read_text())
        runs.setdefault(label, {})[(r["clusters"], r["workloads"])] = r
    scenarios = sorted({s for rs in runs.values() for s in rs})
    xlabels = [f"{c} x {w}" for c, w in scenarios]
    cols = 3
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{cols * (W + 2 * PAD)}" '
           f'height="{2 * (H + 2 * PAD) + 40}" font-family="sans-serif">',
           '<rect width="100%" height="100%" fill="white"/>']
    for p, (title, fn) in enumerate(PANELS):
        series = []
        for label, rs in runs.items():
            series.append((label, [fn(rs[s]) if s in rs else float("nan") for s in scenarios]))
        if p == 1:  # the fake clusters' own capacity at the same concurrency, for reference
            label0 = next(iter(runs))
            series.append(("direct", [runs[label0][s]["direct_before"]["copies_per_s"] if s in runs[label0]
                                      else float("nan") for s in scenarios]))
        svg += panel(PAD + (p % cols) * (W + 2 * PAD), PAD + (p // cols) * (H + 2 * PAD), title, series, xlabels)
    labels = list(runs) + ["direct (copies/s panel)"]
    for j, label in enumerate(labels):
        y = 2 * (H + 2 * PAD) + 20
        svg.append(f'<rect x="{PAD + j * 200}" y="{y - 9}" width="12" height="12" fill="{COLORS[j % len(COLORS)]}"/>')
        svg.append(f'<text x="{PAD + j * 200 + 18}" y="{y + 2}" font-size="12">{label}</text>')
    svg.append("</svg>")
    pathlib.Path(out_path).write_text("\n".join(svg) + "\n")

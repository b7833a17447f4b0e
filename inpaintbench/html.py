"""One self-contained HTML page per report: tables, plots and grids inlined (base64), the
protocol and every run manifest, and a per-image table that sorts and filters in the browser.
No external CSS, JS or fonts, so the file can be mailed or attached to a CI run."""
from __future__ import annotations

import base64
import html
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd

from .metrics import METRIC_INFO
from .runner import run_name
from .stats import ALPHA, UNDECIDED, interval_text

#: per-image rows the page carries (~9 MB). A full Places2 report is 219,000 pairs per method: the
#: page would be gigabytes that no browser sorts; per_image.csv keeps every row
PAGE_ROWS = 20_000

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1400px;color:#222;padding:0 16px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:12.5px;margin:8px 0;display:block;overflow-x:auto;max-width:100%}
td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}td{white-space:nowrap}
th{background:#f4f4f4;cursor:pointer}td:first-child,th:first-child{text-align:left}
.best{font-weight:700;background:#e8f4e8}.caption{color:#555;font-size:12.5px}
.plots img{width:32%;min-width:320px}.grid img{max-width:100%}
.win{color:#17692a}.lose{color:#a11}.nodiff{color:#777}pre{background:#f7f7f7;padding:8px;overflow:auto;font-size:11.5px;white-space:pre-wrap;overflow-wrap:anywhere}
.note{background:#fff6e0;border:1px solid #f0d080;padding:6px 10px}
"""

SCRIPT = """
function sortTable(th){const t=th.closest('table'),i=[...th.parentNode.children].indexOf(th),
 b=t.tBodies[0],asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
 [...b.rows].sort((x,y)=>{const a=x.cells[i].dataset.v??x.cells[i].textContent,c=y.cells[i].dataset.v??y.cells[i].textContent;
 const n=parseFloat(a)-parseFloat(c);return (isNaN(n)?a.localeCompare(c):n)*(asc?1:-1)}).forEach(r=>b.appendChild(r))}
function filterRows(){const m=document.getElementById('fm').value,b=document.getElementById('fb').value;
 for(const r of document.querySelectorAll('#perimage tbody tr')){r.style.display=
 ((m===''||r.dataset.m===m)&&(b===''||r.dataset.b===b))?'':'none'}}
"""


def _img(path: Path) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    kind = "jpeg" if Path(path).suffix == ".jpg" else "png"
    return f'<img src="data:image/{kind};base64,{data}" alt="{html.escape(Path(path).stem)}">'


def _table1_html(t: pd.DataFrame, cells: pd.DataFrame, best: pd.DataFrame) -> str:
    # a run's name may break after each '+' (rwconv+hflip+poisson): the widest header of the demo's table
    head = "<tr><th>metric</th><th>mask</th>" + "".join(f"<th>{html.escape(c).replace('+', '+<wbr>')}</th>"
                                                       for c in t.columns) + "</tr>"
    body = []
    for idx in t.index:
        tds = "".join(f'<td class="{"best" if best.loc[idx, c] else ""}">{html.escape(cells.loc[idx, c])}</td>' for c in t.columns)
        body.append(f"<tr><td>{html.escape(idx[0])}</td><td>{html.escape(idx[1])}</td>{tds}</tr>")
    return f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


def _comparisons_html(cmp: pd.DataFrame) -> str:
    """One collapsible block per opponent; its summary counts the verdicts."""
    if cmp.empty:
        return "<p>Only one method: nothing to compare.</p>"
    a = cmp.a.iloc[0]
    head = (f"<tr><th>metric</th><th>mask</th><th>pairs</th><th>mean({html.escape(a)} − other)</th>"
            f"<th>95% paired bootstrap CI</th><th>Wilcoxon p</th><th>BH q</th><th>verdict (α=0.05)</th></tr>")
    blocks = []
    for b, g in cmp.groupby("b", sort=False):
        rows = []
        for r in g.itertuples():
            scale = METRIC_INFO[r.metric][1]
            # compared whole: "rwconv+poisson better" starts with "rwconv" too
            cls = "nodiff" if r.verdict in UNDECIDED else ("win" if r.verdict == f"{r.a} better" else "lose")
            rows.append(f"<tr><td>{METRIC_INFO[r.metric][2]}</td><td>{r.bucket}%</td><td>{r.n_pairs}</td>"
                        f"<td>{r.mean_diff * scale:+.3f}</td><td>{interval_text(r.ci_low * scale, r.ci_high * scale, '+.3f')}</td>"
                        f"<td>{r.wilcoxon_p:.2g}</td><td>{r.wilcoxon_q:.2g}</td><td class='{cls}'>{html.escape(r.verdict)}</td></tr>")
        held = g[~g.verdict.isin(UNDECIDED) & (g.wilcoxon_q < ALPHA)].verdict.value_counts()
        counts = ", ".join(f"{html.escape(v)}: {n}" + (f" ({held.get(v, 0)} at BH q &lt; {ALPHA})" if v not in UNDECIDED else "")
                           for v, n in g.verdict.value_counts().items())
        blocks.append(f"<details><summary><b>{html.escape(a)} vs {html.escape(b)}</b> ({len(g)} cells; {counts})</summary>"
                      f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table></details>")
    return "".join(blocks)


def _per_image_html(df: pd.DataFrame, metrics: list[str]) -> str:
    cols = [m for m in metrics if m in df.columns and df[m].notna().any()]
    shown = ""
    if len(df) > PAGE_ROWS:  # the drill-down is for the worst cases: keep those of every method and bucket
        k = max(1, PAGE_ROWS // df.groupby(["method", "bucket"]).ngroups)
        kept = df.sort_values("psnr", kind="stable").groupby(["method", "bucket"], sort=False).head(k)
        shown = (f"<p class='note'>{len(kept):,} of {len(df):,} per-image rows shown: the {k:,} lowest-PSNR pairs of "
                 f"each method and bucket; every row is in per_image.csv (<code>--format all</code> or csv).</p>")
        df = kept.sort_index()
    methods = sorted(df.method.unique())
    buckets = list(dict.fromkeys(df.bucket))
    opts = lambda xs: "<option value=''>all</option>" + "".join(f"<option>{html.escape(x)}</option>" for x in xs)
    head = "".join(f"<th onclick='sortTable(this)'>{h}</th>" for h in ["method", "bucket", "image", "mask", "hole %"]
                   + [METRIC_INFO[m][2] for m in cols])
    rows = []
    for r in df.itertuples():
        vals = "".join(f"<td data-v='{getattr(r, m)}'>{getattr(r, m) * METRIC_INFO[m][1]:.4g}</td>" for m in cols)
        rows.append(f"<tr data-m='{html.escape(r.method)}' data-b='{r.bucket}'><td>{html.escape(r.method)}</td><td>{r.bucket}</td>"
                    f"<td>{html.escape(r.image_id)}</td><td>{html.escape(r.mask_file)}</td><td>{r.hole_ratio * 100:.1f}</td>{vals}</tr>")
    return (f"{shown}<p>method <select id='fm' onchange='filterRows()'>{opts(methods)}</select> bucket "
            f"<select id='fb' onchange='filterRows()'>{opts(buckets)}</select> · click a header to sort (worst cases first "
            f"with a second click on PSNR/SSIM).</p><table id='perimage'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


#: items of a manifest's list shown on the page; a partial run over Places2 can skip 100,000 pairs
#: (~6 MB of page), which manifest.json in its folder keeps whole
MANIFEST_LIST_SHOWN = 20


def _manifest_html(m: dict) -> str:
    def shortened(v):
        if isinstance(v, dict):
            return {k: shortened(x) for k, x in v.items()}
        if isinstance(v, list) and len(v) > MANIFEST_LIST_SHOWN:
            return [*v[:MANIFEST_LIST_SHOWN], f"... {len(v)} in all: manifest.json in the run's folder lists every one"]
        return v

    text = json.dumps(shortened(m), indent=2, default=str)
    return f"<details><summary>{html.escape(run_name(m))}</summary><pre>{html.escape(text)}</pre></details>"


def page(title: str, caption: str, t, cells, best, cmp, plots: list[Path], grids: list[tuple[str, Path]],
         df: pd.DataFrame, metrics: list[str], manifests: list[dict], notes: list[str]) -> str:
    protocol = manifests[0]["protocol"]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{STYLE}</style>"
             f"<script>{SCRIPT}</script></head><body><h1>{html.escape(title)}</h1><p class='caption'>{html.escape(caption)}</p>"]
    parts += [f"<p class='note'>{html.escape(n)}</p>" for n in notes]
    parts.append("<h2>Table 1: mean ±95% bootstrap CI half-width per bucket (best in bold)</h2>" + _table1_html(t, cells, best))
    a = cmp.a.iloc[0] if len(cmp) else ""
    parts.append(f"<h2>Paired comparisons: {html.escape(a)} against each other method, same (image, mask) pairs</h2>"
                 + _comparisons_html(cmp))
    parts.append("<h2>Metrics against hole ratio</h2><div class='plots'>" + "".join(_img(p) for p in plots if p.suffix == ".png") + "</div>")
    for name, p in grids:
        parts.append(f"<h2>{html.escape(name)}</h2><div class='grid'>{_img(p)}</div>")
    parts.append("<h2>Per-image results</h2>" + _per_image_html(df, metrics))
    parts.append(f"<h2>Protocol {html.escape(protocol['id'])}</h2><pre>{html.escape(json.dumps(protocol, indent=2))}</pre>")
    parts.append("<h2>Run manifests</h2>" + "".join(_manifest_html(m) for m in manifests))
    parts.append("</body></html>")
    return "\n".join(parts)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def screenshot(html_path: Path, png_path: Path, width: int = 1440, height: int = 9000, timeout: int = 120) -> Path:
    """Render the page in headless Chromium and save a full-height screenshot."""
    exe = find_chromium()
    if exe is None:
        raise FileNotFoundError("no chromium found (Debian: apt-get install chromium)")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={width},{height}",
           f"--screenshot={Path(png_path).resolve()}", Path(html_path).resolve().as_uri()]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0 or not Path(png_path).is_file():
        raise RuntimeError(f"chromium failed ({r.returncode}): {r.stderr[-500:]}")
    return Path(png_path)

"""`revbridge bench` runs end to end and reports every figure (no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REVBRIDGE = str(Path(sys.executable).with_name("revbridge"))


def test_bench_reports_throughput_latency_calls_and_the_baseline(tmp_path: Path) -> None:
    result = subprocess.run(
        [REVBRIDGE, "bench", "--deals", "6", "--json", "bench.json"],
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["deals"] == 6
    assert report["deals_per_s"] > 0
    assert report["latency_p50_s"] <= report["latency_p99_s"]
    assert set(report["calls_per_deal"]) == {"salesforce", "netsuite", "stripe", "avalara"}
    assert report["calls_per_deal"]["avalara"] == 1.0  # one createoradjust per deal
    assert report["http_429"] == 0
    assert report["peak_rss_mb"] > 0
    assert report["ratio_to_baseline"] > 0

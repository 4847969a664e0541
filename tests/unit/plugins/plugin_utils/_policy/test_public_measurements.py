# -*- coding: utf-8 -*-
# Copyright (c) 2026, voiceagent.models contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The public llama.cpp measurements of docs/performance.md, predicted by the speed model (bench/public)."""

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[5]
_SPEC = importlib.util.spec_from_file_location("public_table", str(ROOT / "bench" / "public" / "table.py"))
table = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(table)


def test_every_row_cites_its_source_and_the_bandwidth_it_used():
    rows = table.rows()
    assert rows
    for row in rows:
        assert row["source"].startswith("https://") and row["measured_tokens_per_sec"] > 0 and row["gbps"] > 0
        assert row["model_bytes"] > 0


def test_median_absolute_error_meets_the_goals():
    medians = table.summary(table.rows())
    assert medians["cpu"] <= 25.0 and medians["gpu"] <= 30.0


def test_the_docs_table_is_the_rendered_one():
    docs = (ROOT / "docs" / "performance.md").read_text()
    assert table.markdown(table.rows()) in docs

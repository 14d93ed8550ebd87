"""The diagram in ARCHITECTURE.md is the one the flow generates, and covers every step."""

from __future__ import annotations

from pathlib import Path

from flows.diagram import mermaid
from flows.guide import STAGES

ARCHITECTURE = Path(__file__).resolve().parents[2] / "ARCHITECTURE.md"


def test_architecture_md_holds_the_current_generated_diagram() -> None:
    assert mermaid() in ARCHITECTURE.read_text(encoding="utf-8")


def test_the_diagram_reaches_every_step_and_the_safety_check_result() -> None:
    diagram = mermaid()
    for stage in STAGES:
        assert f" {stage.value} " in diagram or f" {stage.value}:" in diagram
    assert "assess_asq --> assess_asq_result" in diagram

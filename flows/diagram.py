"""Generates the guide's Mermaid state diagram from the flow itself, so it is never hand-drawn."""

from __future__ import annotations

from datetime import UTC, datetime

from flows import guide
from flows.guide import STEP_VIEWS, Action, GuideState, Status

_QUIET = {Action.MORE, Action.PHRASES, Action.TIPS}  # section switches within one step card
_NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _node(state: GuideState) -> str:
    if state.status is not Status.ACTIVE:
        return state.status.value
    if state.view in STEP_VIEWS:
        return state.stage.value
    return f"{state.stage.value}_{state.view.value}"


def mermaid() -> str:
    """A Mermaid state diagram of every card reachable by buttons, edges named by button."""
    edges: set[tuple[str, str, str]] = set()
    for state, button, nxt in guide.explore(_NOW):
        if _node(state) != _node(nxt) or button.action not in _QUIET:
            edges.add((_node(state), _node(nxt), button.label.removeprefix("btn.")))
    lines = ["stateDiagram-v2", f"    [*] --> {_node(guide.start().state)}"]
    merged: dict[tuple[str, str], list[str]] = {}
    for source, target, label in sorted(edges):
        merged.setdefault((source, target), []).append(label)
    for (source, target), labels in sorted(merged.items()):
        lines.append(f"    {source} --> {target}: {', '.join(sorted(set(labels)))}")
    return "\n".join(lines) + "\n"

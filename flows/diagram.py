"""Generates the guide's Mermaid state diagram from the flow itself, so it is never hand-drawn."""

from __future__ import annotations

from collections import deque
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
    start = guide.start().state
    edges: set[tuple[str, str, str]] = set()
    seen = {(_node(start), start.result, len(start.answers))}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        for row in guide.buttons(state):
            for button in row:
                event = guide.Pressed(Action(button.action), button.arg, _NOW, "UTC")
                nxt = guide.advance(state, event).state
                if _node(state) != _node(nxt) or button.action not in _QUIET:
                    edges.add((_node(state), _node(nxt), button.label.removeprefix("btn.")))
                key = (_node(nxt), nxt.result, len(nxt.answers))
                if key not in seen:
                    seen.add(key)
                    queue.append(nxt)
    lines = ["stateDiagram-v2", f"    [*] --> {_node(start)}"]
    merged: dict[tuple[str, str], list[str]] = {}
    for source, target, label in sorted(edges):
        merged.setdefault((source, target), []).append(label)
    for (source, target), labels in sorted(merged.items()):
        lines.append(f"    {source} --> {target}: {', '.join(sorted(set(labels)))}")
    return "\n".join(lines) + "\n"

"""Loads and validates the content files (messages, step tips, crisis resources)."""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from flows import asq, checkin, guide, intake
from flows.alerts import EventKind
from flows.cascade import RATINGS, WAITING, RequestStatus
from flows.checkin import TOPICS, CheckInAnswer
from flows.followup import LabelProblem
from flows.guide import STAGES, Status, View
from flows.intents import Say, Urgency
from flows.matching import REASONS, Exclusion
from flows.schedule import TimeProblem

CONTENT = Path(__file__).resolve().parent.parent / "flows" / "content"
SCHEMES = ("tel:", "sms:", "https://")

# Keys the shell itself uses; the flows' keys are derived from their enums below.
SHELL_KEYS = [
    "step.header",
    "format.when",
    "format.date",
    "role.supporter",
    "step.more_header",
    "step.phrases_header",
    "step.bullet",
    "asq.header",
    "asq.header_acuity",
    "resources.list_header",
    "resources.entry",
    "start.visitor",
    "start.enrolled",
    "start.already",
    "invite.created",
    "invite.usage",
    "coordinator.only",
    "help.visitor",
    "help.supporter",
    "help.coordinator",
    "status.none",
    "cancel.nothing",
    "unknown.command",
    "unknown.input",
    "timezone.show",
    "timezone.set",
    "timezone.invalid",
    "error.generic",
    "button.stale",
    "checkin.due",
    "checkin.stale",
    "notice.late",
    "guide.forbidden",
    "guide.not_active",
    "guide.paused",
    "guide.ended",
    "guide.ended_with_follow_up",
    "notice.resumed",
    "notice.new_case",
    "notice.status",
    "notice.unrecognised",
    "notice.note_not_stored",
    "notice.cancelled_input",
    "notice.checkin_kept",
    "notice.paused_status",
    "commands.guide",
    "commands.status",
    "commands.cancel",
    "commands.help",
]


ALERT_KEYS = [
    "alert.body",
    "alert.repeat",
    "alert.someone",
    "alert.acked_by",
    "alert.delivered",
    "alert.trigger.text",
    "alert.ack_notice",
    "alert.blocked_notice",
    "alert.unreachable",
    "alert.already_acked",
    "alert.acked_toast",
    "alert.call_coordinator",
    "alert.call_supporter",
    "btn.alert.ack",
    "btn.alert.call",
    "alerts.none",
    "alerts.header",
    "alerts.line",
    "alerts.state.open",
    "alerts.state.acked",
    "duty.on",
    "duty.off",
    "duty.usage",
    "crisis.offer_check",
]
CASE_KEYS = [
    "profile.summary",
    "profile.unset",
    "profile.available",
    "profile.away",
    "profile.available_set",
    "profile.away_set",
    "btn.profile.stage",
    "btn.profile.department",
    "btn.profile.topics",
    "btn.profile.languages",
    "btn.profile.max_cases",
    "btn.profile.done",
    "cases.none",
    "cases.header",
    "cases.line",
    "cases.no_label",
    "cases.no_check_in",
    "btn.case.resume",
    "btn.case.plan",
    "btn.case.close",
    "label.set",
    "quiet.show",
    "quiet.usage",
]
ALERT_TRIGGERS = [
    "asq_acute",
    "asq_non_acute",
    "checkin_worried",
    "intake_no",
    "intake_unsure",
    "request_unassigned",
    "request_sla",
    "relay_blocked",
]
REQUEST_KEYS = [
    "resources.self.acute",
    "resources.self.non_acute",
    "relay.staff_label",
    "relay.checkin_unreachable",
    "relay.own_wellbeing",
    "invite.problem.live_request",
    "relay.lost.uncopyable",
    "relay.lost.network",
    "relay.requester_left",
    "relay.supporter_left",
    "alert.ack_notice_requester",
    "request.staff",
    "forget.staff",
    "alerts.case",
    "alerts.request",
    "profile.any_time",
    "hours.set",
    "hours.usage",
    "alert.body_request",
    "alert.from_request",
    "alert.unreachable_requester",
    "resources.topic_header",
    "request.urgent",
    "request.case_label",
    "request.handed_over",
    "request.cancelled",
    "cancel.connected",
    "end.not_connected",
    "end.nothing",
    "end.which",
    "forget.confirm",
    "forget.kept",
    "forget.done",
    "referral.welcome",
    "referral.invalid",
    "referral.created",
    "offer.text",
    "offer.urgent",
    "offer.accepted",
    "offer.declined",
    "offer.expired",
    "offer.withdrawn",
    "offer.taken",
    "offer.gone",
    "btn.offer.accept",
    "btn.offer.decline",
    "btn.request.start.talk",
    "btn.request.share.yes",
    "relay.intro_supporter",
    "relay.referral_note",
    "relay.unsafe_note",
    "relay.intro_requester",
    "relay.how_to_reply",
    "relay.closed",
    "relay.peer_at_risk",
    "relay.ended_requester",
    "relay.ended_supporter",
    "relay.checkin_question",
    "relay.checkin_wanted",
    "relay.forgotten",
    "share.waiting",
    "share.done",
    "share.link",
    "assign.usage",
    "assign.none_waiting",
    "assign.stats",
    "assign.header",
    "assign.line",
    "assign.not_waiting",
    "assign.not_supporter",
    "assign.done",
    "assign.candidates_header",
    "assign.candidate",
    "assign.reason",
    "assign.tried",
    "assign.no_candidates",
    "assign.excluded",
    "assign.hint",
]


def required_keys() -> set[str]:
    """Every message key the code can ask for: the shell's own, and every button label and
    message key the flows can produce."""
    keys = set(SHELL_KEYS) | set(ALERT_KEYS) | set(CASE_KEYS) | intake.content_keys()
    keys |= set(REQUEST_KEYS) | {f"commands.{name}" for name in ("request", "end")}
    keys |= {f"btn.request.rate.{r}" for r in RATINGS}
    keys |= {f"btn.request.{f}.{v}" for f in ("checkin", "forget") for v in ("yes", "no")}
    keys |= {f"relay.checkin_{v}" for v in ("yes", "no")}
    keys |= {f"request.already.{s}" for s in (*WAITING, RequestStatus.CONNECTED)}
    keys |= {f"assign.state.{s}" for s in WAITING}
    keys |= {f"match.{reason}" for reason in REASONS}
    keys |= {f"match.excluded.{e}" for e in Exclusion}
    keys |= {f"cases.state.{status}" for status in Status}
    keys |= {f"label.problem.{problem}" for problem in LabelProblem}
    keys |= {button.label for _, button, _ in guide.explore(datetime(2026, 1, 5, tzinfo=UTC))}
    keys |= {b.label for row in checkin.ping(late=False).buttons for b in row}
    keys |= {f"alert.event.{kind}" for kind in EventKind}
    keys |= {f"alert.trigger.{t}" for t in ALERT_TRIGGERS}
    keys |= {f"alert.title.{u}" for u in Urgency} | {f"alerts.level.{u}" for u in Urgency}
    keys |= {f"asq.{q}" for q in (*asq.QUESTIONS, asq.ACUITY)}
    keys |= {f"asq.result.{r}" for r in asq.AsqResult}
    keys |= {f"guide.{v}" for v in (View.ASQ_SKIP, View.PLAN, View.TYPE_TIME)}
    keys |= {"followup.scheduled"} | {f"followup.problem.{p}" for p in TimeProblem}
    keys |= {f"checkin.{a}" for a in CheckInAnswer if a is not CheckInAnswer.SNOOZE}
    keys |= {
        "checkin.snooze_options",
        "checkin.snoozed",
        "checkin.closed",
        "checkin.reminder",
        "followup.overdue_notice",
        "notice.case_opened",
    }
    when = datetime(2026, 1, 5, tzinfo=UTC)
    for answer in CheckInAnswer:
        keys |= {
            b.label
            for i in checkin.answer(answer, when)
            if isinstance(i, Say)
            for row in i.buttons
            for b in row
        }
    keys |= {f"resources.{level}" for level in Urgency}
    keys |= {f"invite.problem.{p}" for p in ("unknown", "expired", "used_up")}
    return keys


@dataclass(frozen=True)
class Resource:
    """One crisis resource and the tel:/sms:/https: targets that reach it."""

    id: str
    name: str
    detail: str
    targets: tuple[str, ...]

    @property
    def links(self) -> tuple[str, ...]:
        """The https targets, which can be shown as link buttons."""
        return tuple(t for t in self.targets if t.startswith("https://"))


@dataclass(frozen=True)
class StepText:
    """A step's title, tips, pages of more tips and example phrases."""

    title: str
    tips: tuple[str, ...]
    more: tuple[tuple[str, ...], ...]
    phrases: tuple[str, ...]


class ContentError(ValueError):
    """The content files are incomplete or malformed; the message says where."""


@dataclass(frozen=True)
class Catalog:
    """All user-facing text for one language and region."""

    messages: Mapping[str, str]
    steps: Mapping[str, StepText]
    resources: tuple[Resource, ...]
    topic_resources: Mapping[str, tuple[Resource, ...]] = field(default_factory=dict)

    def text(self, key: str, **params: object) -> str:
        """The message for `key` with its placeholders filled."""
        return self.messages[key].format(**params)


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def _steps(raw: Mapping[str, Any]) -> dict[str, StepText]:
    return {
        name: StepText(
            title=item["title"],
            tips=tuple(item["tips"]),
            more=tuple(tuple(page) for page in item.get("more", ())),
            phrases=tuple(item.get("phrases", ())),
        )
        for name, item in raw.items()
    }


def _topics(paths: Iterable[Path]) -> dict[str, tuple[Resource, ...]]:
    found: dict[str, tuple[Resource, ...]] = {}
    for path in paths:
        for topic, entries in (_read(path).get("topics") or {}).items():
            found[str(topic)] = _entries(path, entries)
    return found


def _resources(paths: Iterable[Path]) -> tuple[Resource, ...]:
    found: list[Resource] = []
    for path in paths:
        found += _entries(path, _read(path).get("entries", ()))
    return tuple(found)


def _entries(path: Path, entries: Iterable[Any]) -> tuple[Resource, ...]:
    found: list[Resource] = []
    for number, entry in enumerate(entries, 1):
        try:
            found.append(
                Resource(
                    str(entry.get("id", entry["name"])),
                    str(entry["name"]),
                    str(entry["detail"]),
                    tuple(entry["targets"]),
                )
            )
        except (KeyError, TypeError, AttributeError):
            raise ContentError(
                f"{path.name}: entry {number} needs a name, detail and targets"
            ) from None
    return tuple(found)


def load_catalog(
    language: str = "en", region: str = "us", override: Path | None = None
) -> Catalog:
    """Load content, then a programme's overrides (messages, steps, extra resources)."""
    messages = dict(_read(CONTENT / language / "messages.yaml"))
    steps = _steps(_read(CONTENT / language / "guide.yaml")["steps"])
    resource_files = [CONTENT / "resources" / f"{region}.yaml"]
    topic_files = [CONTENT / "resources" / "topics.yaml"]
    if override is not None:
        extra = override / language / "messages.yaml"
        if extra.exists():
            changed = _read(extra)
            for key, text in changed.items():
                if key in messages and _placeholders(str(text)) - _placeholders(messages[key]):
                    raise ContentError(
                        f"{extra}: {key!r} uses a placeholder the bot does not fill; allowed: "
                        f"{sorted(_placeholders(messages[key])) or 'none'}"
                    )
            messages.update(changed)
        extra_steps = override / language / "guide.yaml"
        if extra_steps.exists():
            steps.update(_steps(_read(extra_steps)["steps"]))
        extra_files = sorted((override / "resources").glob("*.yaml"))
        topic_files += [f for f in extra_files if f.name == "topics.yaml"]
        resource_files += [f for f in extra_files if f.name != "topics.yaml"]
    catalog = Catalog(messages, steps, _resources(resource_files), _topics(topic_files))
    problems = validate(catalog)
    if problems:
        raise ContentError("content problems: " + "; ".join(problems))
    return catalog


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def validate(catalog: Catalog) -> list[str]:
    """Every problem with a catalog: missing keys, bad steps, resources with no usable target."""
    problems = [f"missing message {k!r}" for k in sorted(required_keys() - set(catalog.messages))]
    for key, text in catalog.messages.items():
        try:
            _placeholders(text)
        except ValueError as exc:
            problems.append(f"message {key!r}: {exc}")
    for stage in STAGES:
        step = catalog.steps.get(stage.value)
        if step is None:
            problems.append(f"missing step {stage.value!r}")
        elif not 2 <= len(step.tips) <= 4:
            problems.append(f"step {stage.value!r} must have 2-4 tips")
        elif not step.more or not step.phrases:
            problems.append(f"step {stage.value!r} needs more tips and phrases")
        elif not all(isinstance(t, str) for t in (*step.tips, *step.phrases, *sum(step.more, ()))):
            problems.append(f"step {stage.value!r}: every tip must be plain text (quote a ': ')")
    if not catalog.resources:
        problems.append("no crisis resources")
    problems += [
        f"no resources for topic {t!r}" for t in TOPICS if not catalog.topic_resources.get(t)
    ]
    for res in (*catalog.resources, *(r for rs in catalog.topic_resources.values() for r in rs)):
        if not res.targets or not all(t.startswith(SCHEMES) and len(t) > 6 for t in res.targets):
            problems.append(f"resource {res.id!r} needs tel:, sms: or https: targets")
    return problems

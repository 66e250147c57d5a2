"""The flow catalog: the tenant's flows (trigger, traffic, faults), and running one execution of one."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..recorder import Recorder
from ..schema import TriggerType
from .clock import LiveClock, SimulatedClock
from .contacts import make_contact
from .engine import Engine, slug
from .failures import (
    AI_AUTH,
    AI_OVERLOADED,
    AI_QUOTA,
    AI_RATE_LIMIT,
    CANCEL,
    HTTP,
    INVALID_PHONE,
    TEMPLATE,
    WHATSAPP,
    Cancelled,
    FlowError,
)
from .flows_incoming import (
    cafe_table_reservations,
    feedback_sentiment,
    lead_qualification,
    order_status_lookup,
    support_auto_reply,
    welcome_new_subscriber,
)
from .flows_scheduled import (
    abandoned_cart_followup,
    appointment_reminders,
    daily_promo_broadcast,
    nightly_sales_report,
    payment_reminders,
    product_launch_campaign,
    reengagement_campaign,
    review_request,
    weekly_newsletter,
)

INCOMING = TriggerType.INCOMING_MESSAGE.value
SCHEDULE = TriggerType.SCHEDULE.value
MANUAL = TriggerType.MANUAL.value


@dataclass(frozen=True, eq=False)
class Flow:
    """A flow of the tenant: its trigger, its nodes (`run`), how often it runs and how it fails.

    Scheduled flows without `every` run once a day at minute `at` (on `weekday` only, if
    set); all others share the day's traffic by `weight`, sub-daily schedules snapped to
    their grid of `every` minutes starting `at` minutes past midnight.
    """

    name: str
    trigger: str
    run: Callable[[Engine], None]
    faults: tuple[tuple[str, float], ...]  # (fault kind, probability per execution)
    max_seconds: float  # an upper bound of a run's duration: today's runs must end by `now`
    weight: float = 0.0
    every: int | None = None
    at: int = 0
    weekday: int | None = None
    long_running: bool = False  # a loop the live demo sizes to last 30 s - 3 min

    @property
    def id(self) -> str:
        return "flow-" + slug(self.name)

    @property
    def daily(self) -> bool:
        return self.trigger == SCHEDULE and self.every is None


FLOWS: tuple[Flow, ...] = (
    Flow("Support Auto-Reply", INCOMING, support_auto_reply, weight=26, max_seconds=90,
         faults=((AI_RATE_LIMIT, 0.035), (AI_AUTH, 0.006), (AI_OVERLOADED, 0.01), (WHATSAPP, 0.025))),
    Flow("Order Status Lookup", INCOMING, order_status_lookup, weight=15, max_seconds=120,
         faults=((HTTP, 0.012), (AI_RATE_LIMIT, 0.015), (WHATSAPP, 0.02), (TEMPLATE, 0.03))),
    Flow("Lead Qualification", INCOMING, lead_qualification, weight=5, max_seconds=120,
         faults=((AI_AUTH, 0.02), (AI_OVERLOADED, 0.015), (HTTP, 0.012), (WHATSAPP, 0.015))),
    Flow("Café Table Reservations", INCOMING, cafe_table_reservations, weight=9, max_seconds=120,
         faults=((AI_RATE_LIMIT, 0.015), (AI_QUOTA, 0.008), (HTTP, 0.012), (WHATSAPP, 0.018))),
    Flow("Feedback Sentiment Analysis", INCOMING, feedback_sentiment, weight=7, max_seconds=120,
         faults=((AI_RATE_LIMIT, 0.02), (HTTP, 0.01), (WHATSAPP, 0.018))),
    Flow("Welcome New Subscriber", INCOMING, welcome_new_subscriber, weight=8, max_seconds=90,
         faults=((WHATSAPP, 0.04),)),
    Flow("Appointment Reminders", SCHEDULE, appointment_reminders, weight=8, every=60, max_seconds=120,
         faults=((INVALID_PHONE, 0.1), (TEMPLATE, 0.05), (WHATSAPP, 0.015), (HTTP, 0.01)), long_running=True),
    Flow("Abandoned Cart Follow-up", SCHEDULE, abandoned_cart_followup, weight=9, every=30, at=15,
         max_seconds=150, faults=((AI_RATE_LIMIT, 0.03), (INVALID_PHONE, 0.05), (WHATSAPP, 0.015), (HTTP, 0.01))),
    Flow("Product Launch Campaign", MANUAL, product_launch_campaign, weight=0.6, max_seconds=600,
         faults=((CANCEL, 0.06), (INVALID_PHONE, 0.3), (WHATSAPP, 0.04), (AI_OVERLOADED, 0.02)),
         long_running=True),
    Flow("Re-engagement Campaign", MANUAL, reengagement_campaign, weight=1.8, max_seconds=300,
         faults=((CANCEL, 0.05), (TEMPLATE, 0.08), (INVALID_PHONE, 0.12), (WHATSAPP, 0.03)), long_running=True),
    Flow("Daily Promo Broadcast", SCHEDULE, daily_promo_broadcast, at=9 * 60, max_seconds=180,
         faults=((INVALID_PHONE, 0.2), (WHATSAPP, 0.04), (CANCEL, 0.03)), long_running=True),
    Flow("Nightly Sales Report", SCHEDULE, nightly_sales_report, at=2 * 60, max_seconds=180,
         faults=((AI_RATE_LIMIT, 0.04), (AI_QUOTA, 0.02), (HTTP, 0.04))),
    Flow("Wholesale Payment Reminders", SCHEDULE, payment_reminders, at=10 * 60 + 30, max_seconds=120,
         faults=((TEMPLATE, 0.08), (INVALID_PHONE, 0.05), (HTTP, 0.03)), long_running=True),
    Flow("Review Request", SCHEDULE, review_request, at=16 * 60, max_seconds=150,
         faults=((INVALID_PHONE, 0.12), (WHATSAPP, 0.03)), long_running=True),
    Flow("Weekly Newsletter", SCHEDULE, weekly_newsletter, at=10 * 60, weekday=0, max_seconds=900,
         faults=((INVALID_PHONE, 0.5), (WHATSAPP, 0.05), (AI_RATE_LIMIT, 0.03)), long_running=True),
)
FLOW_NAMES = tuple(f.name for f in FLOWS)


def pick_fault(rng: random.Random, faults: Sequence[tuple[str, float]]) -> str | None:
    roll = rng.random()
    for kind, chance in faults:
        if roll < chance:
            return kind
        roll -= chance
    return None


def run_execution(recorder: Recorder, flow: Flow, rng: random.Random, clock: SimulatedClock | LiveClock, *,
                  execution_id: str | None = None, long_running: bool = False) -> None:
    """Run one execution of a flow, recording it the way the engine does."""
    customer = make_contact(rng) if flow.trigger == INCOMING else None
    fault = pick_fault(rng, flow.faults)
    try:
        with recorder.execution(flow.name, flow_id=flow.id, trigger=flow.trigger,
                                phone=customer["phone"] if customer else None, execution_id=execution_id) as run:
            engine = Engine(run, rng, clock, fault=fault, customer=customer, long_running=long_running)
            try:
                flow.run(engine)
            except Cancelled as stop:
                run.cancel(stop.reason)
    except FlowError:
        pass  # already recorded: the failed step and the failed execution

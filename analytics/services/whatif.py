"""What-if previews: how many customers a draft setting would move to another tier, and which.

A draft of one setting (the cost model, the scoring model or the tier rules, as its form on the
settings page posts it) is checked by that same form, stored on a job (models.WhatIf, a
core.models.Job) and computed by a worker (tasks.compute_whatif): the book at the published run's
as-of date (readers.read_book), scored by the one core (core.score) under the draft and the newest
saved versions of the other two settings, which is what the next run would use; its tiers are
compared with the published run's (readers.previous_tiers, as the run's own tier migration does).
Nothing is written to the settings: saving stays the settings page's Save.
"""

import logging
import traceback
from collections import Counter
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from core import jobs
from crm.models import Customer

from ..models import CostModel, ScoringModel, Tier, TierRules, WhatIf
from . import core, readers, runs

logger = logging.getLogger(__name__)

TOP = 20  # changed customers listed, by revenue
NEW = "new"  # no tier in the published run (the customer came after it): as the run's tier migration says


class NothingToCompare(Exception):
    """No run is published yet: there are no tiers to compare a draft with."""


def draft_values(which: str, cleaned: dict) -> dict:
    """The draft as the form cleaned it, in JSON (money as strings): what the job keeps and the form
    is bound to again on the preview page."""
    if which == WhatIf.Setting.SCORING:
        return {str(factor): int(weight) for factor, weight in cleaned["factors"]}
    if which == WhatIf.Setting.COST:
        return {name: str(cleaned[name]) for name in ("order_handling_cost", "complaint_handling_cost")}
    return {name: int(cleaned[name]) for name in ("core_pct", "key_pct")}


def whatif_request(*, which: str, cleaned: dict, by) -> WhatIf:
    """Stores a preview of the draft (`cleaned`: its form's cleaned_data) and sends its task after the
    commit; if the broker does not take it, the job is failed then (jobs.NOT_SENT, see `job.status`).
    Raises NothingToCompare when no run is published."""
    run = runs.published_run()
    if run is None:
        raise NothingToCompare
    job = WhatIf.objects.create(which=which, draft=draft_values(which, cleaned), run=run, requested_by=by)
    JOB_KIND.enqueue(job)
    return job


def settings_with(job: WhatIf) -> dict:
    """The core's settings under the draft: the draft for its setting, the newest saved version for
    the others (what the next run would use)."""
    saved = runs.current_settings()
    if job.which == WhatIf.Setting.SCORING:
        saved["scoring_model"] = ScoringModel(factors=[[factor, int(weight)] for factor, weight in job.draft.items()])
    elif job.which == WhatIf.Setting.COST:
        saved["cost_model"] = CostModel(
            order_handling_cost=Decimal(job.draft["order_handling_cost"]),
            complaint_handling_cost=Decimal(job.draft["complaint_handling_cost"]),
        )
    else:
        saved["tier_rules"] = TierRules(core_pct=int(job.draft["core_pct"]), key_pct=int(job.draft["key_pct"]))
    return runs.scoring_settings(
        cost_model=saved["cost_model"], scoring_model=saved["scoring_model"], tier_rules=saved["tier_rules"]
    )


def _other_settings_saved_since(job: WhatIf) -> bool:
    """Whether a setting other than the draft's was saved since the published run: its changes show
    in the preview too (the next run uses it)."""
    saved, run = runs.current_settings(), job.run
    used = {"cost": run.cost_model_id, "scoring": run.scoring_model_id, "tiers": run.tier_rules_id}
    newest = {"cost": saved["cost_model"].pk, "scoring": saved["scoring_model"].pk, "tiers": saved["tier_rules"].pk}
    return any(used[which] != newest[which] for which in used if which != job.which)


def compare(book: core.Book, tiers_after: list[str], tiers_now: dict[int, str]) -> dict:
    """The tier moves (`"A>B": count`, every pair, unchanged ones too), how many changed (customers
    new since the run left out), and the TOP changed customers by revenue (ties by code)."""
    ids = book.customer_id.tolist()
    before = [tiers_now.get(i, NEW) for i in ids]
    moves = Counter(f"{b}>{a}" for b, a in zip(before, tiers_after, strict=True))
    changed = [k for k, (b, a) in enumerate(zip(before, tiers_after, strict=True)) if b != a and b != NEW]
    changed.sort(key=lambda k: (-int(book.revenue[k]), book.code[k]))
    top = changed[:TOP]
    names = dict(Customer.objects.filter(pk__in=[ids[k] for k in top]).values_list("pk", "name"))
    return {
        "customers": len(ids),
        "changed": len(changed),
        "new": before.count(NEW),
        "moves": dict(sorted(moves.items())),
        "top": [
            {
                "customer_id": ids[k],
                "code": book.code[k],
                "name": names.get(ids[k], ""),
                "revenue": str(core.cents(int(book.revenue[k]))),
                "before": before[k],
                "after": tiers_after[k],
            }
            for k in top
        ],
    }


def whatif_compute(*, whatif_id: int) -> WhatIf | None:
    """The preview: claims the job (core.jobs), reads the book at the run's as-of date, scores it under
    the draft, compares the tiers and stores the summary. None when there was nothing to do (done,
    taken by a live worker, gone); a failure ends the job failed with its error."""
    job = JOB_KIND.claim(whatif_id, waiting=WhatIf.Status.QUEUED, to=WhatIf.Status.RUNNING)
    if job is None:
        return None
    try:
        with JOB_KIND.heartbeat(job), JOB_KIND.progress_writer(job) as progress:
            run = job.run
            if run is None:  # deleted with the older runs meanwhile
                raise NothingToCompare("the published run it compared with is gone")
            window = runs.run_window(run)
            progress(10, gettext_noop("reading figures"))
            book = readers.read_book(window, scratch=f"analytics_scratch_w{job.pk}_inputs")
            progress(50, gettext_noop("scoring"))
            scored = core.score(book, as_of=window.as_of, **settings_with(job))
            progress(80, gettext_noop("comparing tiers"))
            tiers_after = [core.TIERS[t] for t in scored.columns["tier"].tolist()]
            summary = compare(book, tiers_after, readers.previous_tiers(run))
            summary.update(
                as_of=window.as_of.isoformat(), run=run.pk, settings_saved_since=_other_settings_saved_since(job)
            )
    except Exception as error:  # noqa: BLE001 - whatever stopped it, the job ends failed, saying why
        logger.exception("what-if %s failed", job.pk)
        whatif_fail(job, f"{error.__class__.__name__}: {error}\n{traceback.format_exc(limit=5)}")
        return job
    now = timezone.now()
    with transaction.atomic():
        done = WhatIf.objects.filter(pk=job.pk, status=WhatIf.Status.RUNNING).update(
            status=WhatIf.Status.SUCCEEDED,
            summary=summary,
            progress=100,
            progress_note=gettext_noop("ready"),
            finished_at=now,
            heartbeat_at=now,
        )
    if not done:  # given up for dead meanwhile (the sweep): its failure stands
        logger.warning("what-if %s was given up before it could be stored", job.pk)
        return None
    job.status, job.summary, job.progress, job.finished_at = WhatIf.Status.SUCCEEDED, summary, 100, now
    return job


def whatif_fail(job: WhatIf, error: str) -> bool:
    """Marks a job still under way failed with `error` (on `job` too); False when it had finished."""
    now = timezone.now()
    failed = WhatIf.objects.filter(pk=job.pk, status__in=WhatIf.IN_PROGRESS).update(
        status=WhatIf.Status.FAILED, error=error[:5000], finished_at=now
    )
    if failed:
        job.status, job.error, job.finished_at = WhatIf.Status.FAILED, error[:5000], now
    return bool(failed)


def may_see(user, job: WhatIf) -> bool:
    """A preview is its author's (and the admins'): it shows a draft nobody else has seen."""
    return user.is_superuser or (job.requested_by_id is not None and job.requested_by_id == user.pk)


def matrix(summary: dict) -> list[tuple[str, list[tuple[str, int, bool]]]]:
    """The tier moves as a table: a row per tier in the published run (and "new" when some are), a
    cell per tier under the draft, (tier after, count, whether it is a change)."""
    moves = summary.get("moves", {})
    rows = [*Tier.values, *([NEW] if summary.get("new") else [])]
    return [(b, [(a, moves.get(f"{b}>{a}", 0), b != a and b != NEW) for a in Tier.values]) for b in rows]


# What-if previews as jobs (core/jobs.py): registered for the sweep and the status endpoint by AnalyticsConfig.ready().
# Who may change the settings may preview a change (the settings page's check); each sees their own.
JOB_KIND = jobs.JobKind(
    name="whatif",
    model=WhatIf,
    permission="analytics.add_scoringmodel",
    running=(WhatIf.Status.RUNNING,),
    waiting={WhatIf.Status.QUEUED: "analytics.tasks.compute_whatif"},
    fail=whatif_fail,
    may_see=may_see,
)

"""Analysis runs and what they publish: per-customer figures, company figures and charts.

Also the per-customer monthly order totals that runs read instead of the order history, and
the versioned settings (cost model, scoring model, tier rules) each run records.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.display import label
from core.models import Job

MONEY = {"max_digits": 16, "decimal_places": 2}
ZERO = Decimal("0.00")


class CustomerMonth(models.Model):
    """Counted orders (not cancelled or returned) of one customer in one calendar month.

    Kept up to date as orders change (analytics.totals), so a run reads 12 rows per customer
    instead of every order in the history.
    """

    customer = models.ForeignKey("crm.Customer", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # first day of the month
    revenue = models.DecimalField(**MONEY, default=ZERO)
    cost = models.DecimalField(**MONEY, default=ZERO)
    service_cost = models.DecimalField(**MONEY, default=ZERO)
    orders = models.PositiveIntegerField(default=0)
    error_orders = models.PositiveIntegerField(default=0)
    dated_deliveries = models.PositiveIntegerField(default=0)  # with both promised_on and delivered_on
    on_time_deliveries = models.PositiveIntegerField(default=0)  # delivered_on <= promised_on
    first_order_on = models.DateField()
    last_order_on = models.DateField()

    class Meta:
        # On PostgreSQL both indexes also carry what a run reads (analytics.services.readers), so the
        # database answers from the index alone: the window's months through the month index, whatever
        # the length of the history, and each customer's first and last order day through the unique
        # one. Covering indexes exist only there (SQLite would silently drop the unique constraint), so
        # migration 0006 makes them per database and the model declares the plain unique key.
        constraints = [models.UniqueConstraint(fields=["customer", "month"], name="customer_month_unique")]

    def __str__(self):
        return f"customer {self.customer_id}, {self.month:%Y-%m}"


class CustomerRunningTotal(models.Model):
    """One customer's counted orders from the first one through the end of `month`: running sums.

    Dense: a row for every month from the customer's first order month to the horizon (the latest
    month any run has asked for, at least the current one), so the sums of any day range are two rows
    apart, and the PostgreSQL engine reads three rows per customer (the window's end, its start, the
    prior window's start) plus the orders of a few edge days, whatever the length of the history.
    Kept in step with CustomerMonth by analytics.totals, on PostgreSQL only: the SQL engine
    (services/readers.py) is its only reader. `first_order_on` is the customer's first counted
    order ever; `last_order_on` the last one on or before the end of `month`.
    """

    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    month = models.DateField()  # first day of the month the sums run through
    revenue = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    cost = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    service_cost = models.DecimalField(max_digits=18, decimal_places=2, default=ZERO)
    orders = models.PositiveIntegerField(default=0)
    error_orders = models.PositiveIntegerField(default=0)
    dated_deliveries = models.PositiveIntegerField(default=0)
    on_time_deliveries = models.PositiveIntegerField(default=0)
    first_order_on = models.DateField()
    last_order_on = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["month", "customer"], name="running_total_month_customer")]
        indexes = [models.Index(fields=["customer", "month"], name="running_total_customer_month")]

    def __str__(self):
        return f"customer {self.customer_id}, through {self.month:%Y-%m}"


class CompanyMonth(models.Model):
    """Revenue and number of all counted orders in a calendar month (the sums of that month's
    CustomerMonth rows), kept with them on PostgreSQL so a run's monthly ARPU and the complaint KPIs'
    orders read 12 rows instead of 800,000 or 2.4 million."""

    month = models.DateField(unique=True)
    revenue = models.DecimalField(max_digits=20, decimal_places=2, default=ZERO)
    orders = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.month:%Y-%m}"


class VersionedSetting(models.Model):
    """Never edited in place: a change saves a new version, so each run keeps what it used."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        get_latest_by = ["created_at", "id"]


class CostModel(VersionedSetting):
    order_handling_cost = models.DecimalField(
        _("handling cost per order"), **MONEY, default=ZERO, validators=[MinValueValidator(0)]
    )
    complaint_handling_cost = models.DecimalField(
        _("handling cost per complaint"), **MONEY, default=ZERO, validators=[MinValueValidator(0)]
    )

    class Meta(VersionedSetting.Meta):
        verbose_name = _("cost model")
        verbose_name_plural = _("cost models")

    def __str__(self):
        return f"#{self.pk}: {self.order_handling_cost} / {self.complaint_handling_cost}"


class Factor(models.TextChoices):
    PROFIT = "profit", _("Profit")
    REVENUE = "revenue", _("Revenue")
    MARGIN = "margin", _("Margin %")
    PAYMENT = "payment", _("Payment on time")
    DELIVERY = "delivery", _("Delivery on time")
    GROWTH = "growth", _("Growth")
    POTENTIAL = "potential", _("Potential rating")
    SATISFACTION = "satisfaction", _("Satisfaction")
    COMPLAINTS = "complaints", _("Complaints (fewer is better)")
    TENURE = "tenure", _("Tenure")
    REFERRALS = "referrals", _("Referrals")


MAX_FACTORS = 5


class ScoringModel(VersionedSetting):
    """1 to 5 factors with positive whole-number weights; the score is their weighted mean percentile."""

    factors = models.JSONField(_("factors"), help_text=_("A list of [factor, weight] pairs."))

    class Meta(VersionedSetting.Meta):
        verbose_name = _("scoring model")
        verbose_name_plural = _("scoring models")

    def __str__(self):
        return ", ".join(f"{label(factor, Factor)} {weight}" for factor, weight in self.factors)

    def clean(self):
        validate_factors(self.factors)

    @property
    def weights(self) -> dict[str, int]:
        return {factor: int(weight) for factor, weight in self.factors}


def validate_factors(factors) -> None:
    if not isinstance(factors, list) or not factors:
        raise ValidationError({"factors": _("A scoring model needs at least one factor.")})
    if len(factors) > MAX_FACTORS:
        raise ValidationError(
            {"factors": _("A scoring model has at most five factors: more than five is noise. Remove one first.")}
        )
    seen = set()
    for pair in factors:
        factor, weight = pair
        if factor not in Factor.values:
            raise ValidationError({"factors": _("“%(factor)s” is not a known factor.") % {"factor": factor}})
        if factor in seen:
            raise ValidationError({"factors": _("Each factor can be used once.")})
        seen.add(factor)
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1 or weight > 100:
            raise ValidationError({"factors": _("Weights are whole numbers from 1 to 100.")})


class TierRules(VersionedSetting):
    core_pct = models.PositiveSmallIntegerField(
        _("core (A): top share of non-drain customers, in percent"),
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(99)],
    )
    key_pct = models.PositiveSmallIntegerField(
        _("core + key (A+B): top share of non-drain customers, in percent"),
        default=50,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )

    class Meta(VersionedSetting.Meta):
        verbose_name = _("tier rules")
        verbose_name_plural = _("tier rules")

    def __str__(self):
        return f"A {self.core_pct}% / A+B {self.key_pct}%"

    def clean(self):
        if self.key_pct is not None and self.core_pct is not None and self.key_pct < self.core_pct:
            raise ValidationError({"key_pct": _("A+B cannot be a smaller share than A alone.")})


class Tier(models.TextChoices):
    A = "A", _("A · core")
    B = "B", _("B · key")
    C = "C", _("C · general")
    D = "D", _("D · drain")
    P = "P", _("P · prospect")


class Quadrant(models.TextChoices):
    CHAMPION = "champion", _("Champion")
    STAR = "star", _("Future star")
    HARVEST = "harvest", _("Harvest")
    EXIT = "exit", _("Exit")


class Action(models.TextChoices):
    INVEST = "invest", _("Invest")
    DEVELOP = "develop", _("Develop")
    HARVEST = "harvest", _("Harvest")
    REDUCE = "reduce", _("Reduce")
    REVIEW = "review", _("Review")


class Protection(models.TextChoices):
    LOYAL = "loyal", _("Loyal")
    BIG = "big", _("Big")
    POTENTIAL = "potential", _("Potential")
    STRATEGIC = "strategic", _("Strategic")


class AnalysisRun(Job):
    """A job (core.models.Job: status, progress, heartbeat, error, who asked) that computes the figures."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Published")
        FAILED = "failed", _("Failed")

    class Trigger(models.TextChoices):
        NIGHTLY = "nightly", _("Nightly schedule")
        IMPORT = "import", _("After an import")
        MANUAL = "manual", _("Recompute button")
        COMMAND = "command", _("Command line")

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    as_of = models.DateField(_("as of"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    # True while queued or running; a partial unique index on it allows one active run at a time.
    active = models.BooleanField(default=True, editable=False)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    cost_model = models.ForeignKey(CostModel, on_delete=models.PROTECT, related_name="runs")
    scoring_model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="runs")
    tier_rules = models.ForeignKey(TierRules, on_delete=models.PROTECT, related_name="runs")
    window_start = models.DateField()
    window_end = models.DateField()
    prior_start = models.DateField()
    prior_end = models.DateField()
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    company = models.JSONField(default=dict, blank=True)  # company-level figures, money as strings

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("analysis run")
        verbose_name_plural = _("analysis runs")
        permissions = [
            ("start_run", _("Can start an analysis run")),
            ("view_reports", _("Can read the executive reports")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=models.Q(active=True), name="one_active_analysis_run")
        ]
        indexes = [models.Index(fields=["status", "published_at"], name="run_published_idx")]

    def __str__(self):
        return f"#{self.pk} {self.as_of} {self.status}"


class CustomerResult(models.Model):
    """One customer's figures in one run. Money is exact (sums of two-place decimals)."""

    # Derived rows, 100,000 a run, written in one statement that reads them from the run's inputs, and deleted
    # with their run or customer by Django (on_delete): no database foreign key to check row by row, and
    # no single-column indexes, which (run, customer) and (customer, run) below already serve.
    run = models.ForeignKey(
        AnalysisRun, on_delete=models.CASCADE, related_name="results", db_constraint=False, db_index=False
    )
    customer = models.ForeignKey(
        "crm.Customer", on_delete=models.CASCADE, related_name="results", db_constraint=False, db_index=False
    )
    revenue = models.DecimalField(_("revenue"), **MONEY, default=ZERO)
    cost_of_goods = models.DecimalField(_("cost of goods"), **MONEY, default=ZERO)
    gross_margin = models.DecimalField(_("gross margin"), **MONEY, default=ZERO)
    cost_to_serve = models.DecimalField(_("cost to serve"), **MONEY, default=ZERO)
    profit = models.DecimalField(_("profit"), **MONEY, default=ZERO)
    prior_revenue = models.DecimalField(_("prior revenue"), **MONEY, default=ZERO)
    orders = models.PositiveIntegerField(_("orders"), default=0)
    average_order_value = models.DecimalField(_("average order value"), max_digits=18, decimal_places=4, null=True)
    margin_pct = models.DecimalField(_("margin %"), max_digits=12, decimal_places=4, null=True)
    on_time_delivery_pct = models.DecimalField(_("on-time delivery %"), max_digits=7, decimal_places=4, null=True)
    error_pct = models.DecimalField(_("order error %"), max_digits=7, decimal_places=4, null=True)
    on_time_payment_pct = models.DecimalField(_("on-time payment %"), max_digits=7, decimal_places=4, null=True)
    average_days_late = models.DecimalField(_("average days late"), max_digits=10, decimal_places=4, null=True)
    overdue_amount = models.DecimalField(_("overdue amount"), **MONEY, default=ZERO)
    growth_pct = models.DecimalField(_("growth %"), max_digits=14, decimal_places=4, null=True)
    complaints = models.PositiveIntegerField(_("complaints"), default=0)
    average_survey_score = models.DecimalField(_("satisfaction"), max_digits=6, decimal_places=4, null=True)
    referrals = models.PositiveIntegerField(_("referrals"), default=0)
    tenure_years = models.PositiveSmallIntegerField(_("tenure (years)"), null=True)
    days_since_last_order = models.PositiveIntegerField(_("days since last order"), null=True)
    days_since_last_interaction = models.PositiveIntegerField(_("days since last interaction"), null=True)
    # The first counted order on or before as_of (tenure without `since`, active customers for ARPU and churn).
    first_order_on = models.DateField(_("first order"), null=True)
    percentiles = models.JSONField(default=dict)  # factor -> percentile (string, exact to 6 places)
    score = models.DecimalField(_("score"), max_digits=9, decimal_places=4, null=True)
    rank = models.PositiveIntegerField(_("rank"), null=True)
    tier = models.CharField(_("tier"), max_length=1, choices=Tier.choices)
    quadrant = models.CharField(_("quadrant"), max_length=16, choices=Quadrant.choices, blank=True)
    protection = models.CharField(_("protection"), max_length=64, blank=True)  # reasons joined by ";"
    action = models.CharField(_("action"), max_length=16, choices=Action.choices, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "customer"], name="one_result_per_customer_and_run")]
        indexes = [
            models.Index(fields=["run", "profit"], name="result_run_profit_idx"),
            models.Index(fields=["run", "revenue"], name="result_run_revenue_idx"),
            models.Index(fields=["run", "score"], name="result_run_score_idx"),
            models.Index(fields=["run", "tier"], name="result_run_tier_idx"),
            models.Index(fields=["customer", "run"], name="result_customer_run_idx"),
        ]

    def __str__(self):
        return f"run {self.run_id}, customer {self.customer_id}"

    @property
    def protection_reasons(self) -> list[str]:
        return [reason for reason in self.protection.split(";") if reason]


class RunChart(models.Model):
    """A chart's figure (Plotly JSON) built by the run, so report pages only read."""

    run = models.ForeignKey(AnalysisRun, on_delete=models.CASCADE, related_name="charts")
    name = models.CharField(max_length=64)
    figure = models.JSONField()
    # The profit-vs-volume points' answer compressed once, as the start of a gzip body
    # (analytics.gzipped.opened): a reader that takes gzip gets them with no compression per request.
    gzipped = models.BinaryField(null=True, editable=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="one_chart_per_name_and_run")]

    def __str__(self):
        return f"run {self.run_id}, {self.name}"


class WhatIf(Job):
    """A job (core.models.Job): the tiers a draft of one setting (cost model, scoring model or tier
    rules) would give at the published run's as-of date, compared with that run's. Nothing of the
    draft is saved as a setting; `summary` holds the comparison (analytics.services.whatif)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Computing")
        SUCCEEDED = "succeeded", _("Ready")
        FAILED = "failed", _("Failed")

    class Setting(models.TextChoices):
        COST = "cost", _("Cost model")
        SCORING = "scoring", _("Scoring model")
        TIERS = "tiers", _("Tier rules")

    IN_PROGRESS = (Status.QUEUED, Status.RUNNING)

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    which = models.CharField(_("setting"), max_length=16, choices=Setting.choices)
    draft = models.JSONField(_("draft"))  # the form's fields as posted (strings), checked by the same form
    run = models.ForeignKey(
        AnalysisRun, verbose_name=_("analysis run"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    summary = models.JSONField(_("summary"), null=True, blank=True)

    class Meta(Job.Meta):
        verbose_name = _("what-if preview")
        verbose_name_plural = _("what-if previews")

    def __str__(self):
        return f"what-if {self.pk} ({self.which})"

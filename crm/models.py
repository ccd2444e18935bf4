"""Customer records: who the customers are, what they bought, what they paid, what they said."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Now
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.00")


class Region(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self):
        return self.name


class Industry(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("industry")
        verbose_name_plural = _("industries")

    def __str__(self):
        return self.name


class Customer(models.Model):
    class Kind(models.TextChoices):
        COMPANY = "company", _("Company")
        INDIVIDUAL = "individual", _("Individual")

    class Status(models.TextChoices):
        PROSPECT = "prospect", _("Prospect")
        ACTIVE = "active", _("Active")
        CHURNED = "churned", _("Churned")

    class ChurnReason(models.TextChoices):
        PRICE = "price", _("Price")
        QUALITY = "quality", _("Product quality")
        SERVICE = "service", _("Service quality")
        DELIVERY = "delivery", _("Delivery")
        COMPETITOR = "competitor", _("Went to a competitor")
        BUSINESS_CLOSED = "business_closed", _("Business closed or moved")
        OTHER = "other", _("Other")

    class CreditTerms(models.TextChoices):
        PREPAID = "prepaid", _("Prepaid")
        CREDIT = "credit", _("Credit")

    class ValueOrientation(models.TextChoices):
        ECONOMY = "economy", _("Economy")
        PERFORMANCE = "performance", _("Performance")
        ASSURANCE = "assurance", _("Assurance")

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.COMPANY)
    industry = models.ForeignKey(Industry, verbose_name=_("industry"), on_delete=models.PROTECT, null=True, blank=True)
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_customers",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROSPECT)
    since = models.DateField(_("customer since"), null=True, blank=True)
    churned_on = models.DateField(_("churned on"), null=True, blank=True)
    churn_reason = models.CharField(_("churn reason"), max_length=32, choices=ChurnReason.choices, blank=True)
    credit_terms = models.CharField(
        _("credit terms"), max_length=16, choices=CreditTerms.choices, default=CreditTerms.PREPAID
    )
    credit_limit = models.DecimalField(_("credit limit"), **MONEY, default=ZERO, validators=[MinValueValidator(0)])
    strategic = models.BooleanField(_("strategic"), default=False)
    strategic_note = models.TextField(_("strategic note"), blank=True)
    growth_potential = models.PositiveSmallIntegerField(
        _("growth potential"), default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    value_orientation = models.CharField(
        _("value orientation"), max_length=16, choices=ValueOrientation.choices, blank=True
    )
    referred_by = models.ForeignKey(
        "self",
        verbose_name=_("referred by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals",
    )
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    # What the customer is written to in (acknowledgments, action plans, surveys); rows written
    # outside Django (COPY, raw SQL) get the site's language from the database default.
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        db_default=settings.LANGUAGE_CODE,
        help_text=_("E-mails to this customer are written in this language."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["code"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [
            ("view_money", _("Can see revenue, profit and margin figures")),
            ("export_customer", _("Can export customer lists")),
        ]
        indexes = [
            models.Index(fields=["name"], name="customer_name_idx"),
            models.Index(fields=["region", "name"], name="customer_region_name_idx"),
            models.Index(fields=["industry", "name"], name="customer_industry_name_idx"),
            models.Index(fields=["owner", "name"], name="customer_owner_name_idx"),
            models.Index(fields=["status", "name"], name="customer_status_name_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(growth_potential__gte=1, growth_potential__lte=5),
                name="customer_growth_potential_1_to_5",
            ),
            models.CheckConstraint(condition=models.Q(credit_limit__gte=0), name="customer_credit_limit_not_negative"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def get_absolute_url(self):
        return reverse("crm:customer_detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.status == self.Status.CHURNED:
            if not self.churned_on:
                errors["churned_on"] = _("A churned customer needs the date it left.")
            if not self.churn_reason:
                errors["churn_reason"] = _("A churned customer needs a churn reason.")
        elif self.churned_on or self.churn_reason:
            errors["status"] = _("Only a churned customer has a churn date or reason.")
        if self.since and self.churned_on and self.churned_on < self.since:
            errors["churned_on"] = _("The churn date cannot be before the customer-since date.")
        if self.referred_by_id and self.referred_by_id == self.pk:
            errors["referred_by"] = _("A customer cannot refer itself.")
        if errors:
            raise ValidationError(errors)


class Contact(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=120)
    title = models.CharField(_("title"), max_length=120, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    decision_maker = models.BooleanField(_("decision maker"), default=False)
    # A retired contact (left the company, changed role) is kept for the record: shown apart on the
    # customer page, left out of pickers, e-mails and search by default.
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    # db_default: rows written outside Django (the demo seed's COPY) get the time of the insert.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_default=Now())

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        ordering = ["-decision_maker", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")

    def __str__(self):
        return self.name

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class Interaction(models.Model):
    class Kind(models.TextChoices):
        VISIT = "visit", _("Visit")
        CALL = "call", _("Call")
        EMAIL = "email", _("Email")
        MEETING = "meeting", _("Meeting")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="interactions"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CALL)
    occurred_on = models.DateField(_("date"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True, blank=True
    )
    summary = models.TextField(_("summary"))
    next_follow_up = models.DateField(_("next follow-up"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        indexes = [
            models.Index(fields=["customer", "-occurred_on"], name="interaction_customer_date_idx"),
            models.Index(fields=["next_follow_up"], name="interaction_follow_up_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.occurred_on}"


class Order(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        RETURNED = "returned", _("Returned")

    # Cancelled and returned orders bring no revenue.
    COUNTED_STATUSES = (Status.OPEN, Status.DELIVERED)

    number = models.CharField(_("number"), max_length=40, unique=True)
    # No index of its own: order_customer_date_idx (customer, ordered_on) serves every lookup by customer,
    # and a lone customer index tempted the planner into reading all of a customer's orders for a date range.
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    ordered_on = models.DateField(_("ordered on"))
    revenue = models.DecimalField(_("revenue"), **MONEY, help_text=_("Net of discounts."))
    cost = models.DecimalField(_("cost of goods"), **MONEY)
    service_cost = models.DecimalField(_("service cost"), **MONEY, default=ZERO, help_text=_("Handling and delivery."))
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    promised_on = models.DateField(_("promised on"), null=True, blank=True)
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True)
    entry_error = models.BooleanField(_("entry error"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DELIVERED)

    class Meta:
        ordering = ["-ordered_on", "-id"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        indexes = [models.Index(fields=["customer", "ordered_on"], name="order_customer_date_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(revenue__gte=0, cost__gte=0, service_cost__gte=0),
                name="order_amounts_not_negative",
            ),
        ]

    def __str__(self):
        return self.number


class Invoice(models.Model):
    number = models.CharField(_("number"), max_length=40, unique=True)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="invoices"
    )
    issued_on = models.DateField(_("issued on"))
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [models.Index(fields=["customer", "due_on"], name="invoice_customer_due_idx")]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gte=0), name="invoice_amount_not_negative")]

    def __str__(self):
        return self.number


class Survey(models.Model):
    class Score(models.IntegerChoices):
        VERY_DISSATISFIED = 1, _("Very dissatisfied")
        SOMEWHAT_DISSATISFIED = 2, _("Somewhat dissatisfied")
        NEUTRAL = 3, _("Neutral")
        SATISFIED = 4, _("Satisfied")
        HIGHLY_SATISFIED = 5, _("Highly satisfied")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="surveys")
    answered_on = models.DateField(_("answered on"))
    score = models.PositiveSmallIntegerField(_("score"), choices=Score.choices)
    comment = models.TextField(_("comment"), blank=True)
    complaint = models.ForeignKey(
        "complaints.Complaint",
        verbose_name=_("complaint"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
        help_text=_("Set when the survey followed a complaint."),
    )

    class Meta:
        ordering = ["-answered_on", "-id"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        indexes = [models.Index(fields=["customer", "answered_on"], name="survey_customer_date_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__gte=1, score__lte=5), name="survey_score_1_to_5")
        ]

    def __str__(self):
        return f"{self.customer_id} {self.answered_on} {self.score}"

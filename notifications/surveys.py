"""The satisfaction survey after a complaint closes: a signed, expiring link to a public page.

The link carries the invitation's id signed with a TimestampSigner (django.core.signing, with the
SECRET_KEY and a salt of its own): a changed link fails its signature, an old one its age
(SURVEY_LINK_DAYS), and an answered invitation takes no second answer (one conditional UPDATE).
"""

import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from crm.models import Survey

from . import kinds
from .models import SurveyInvitation
from .services import customer_address, customer_language, email_queue, site_url

SALT = "notifications.survey"


class LinkExpired(Exception):
    pass


class LinkInvalid(Exception):
    pass


def _max_age() -> datetime.timedelta:
    return datetime.timedelta(days=getattr(settings, "SURVEY_LINK_DAYS", 30))


def survey_token(invitation: SurveyInvitation) -> str:
    return signing.TimestampSigner(salt=SALT).sign(str(invitation.pk))


def survey_url(invitation: SurveyInvitation) -> str:
    return reverse("notifications:survey", args=[survey_token(invitation)])


def invitation_from_token(token: str) -> SurveyInvitation:
    """The invitation the link names; LinkExpired when older than SURVEY_LINK_DAYS, LinkInvalid
    when tampered with (or its invitation is gone)."""
    try:
        pk = signing.TimestampSigner(salt=SALT).unsign(token, max_age=_max_age())
    except signing.SignatureExpired as error:
        raise LinkExpired from error
    except signing.BadSignature as error:
        raise LinkInvalid from error
    invitation = SurveyInvitation.objects.select_related("complaint__customer").filter(pk=int(pk)).first()
    if invitation is None:
        raise LinkInvalid
    return invitation


def survey_send(*, complaint) -> SurveyInvitation | None:
    """E-mails the customer's contact the survey link, in the customer's language, in the current
    transaction; once per complaint (a complaint closed again after a reopening is not asked twice).
    None when the customer has no address or was asked already."""
    to = customer_address(complaint.customer)
    if not to or SurveyInvitation.objects.filter(complaint=complaint).exists():
        return None
    invitation = SurveyInvitation.objects.create(complaint=complaint, sent_to=to)
    email_queue(
        kind=kinds.SURVEY,
        to=to,
        language=customer_language(complaint.customer),
        args={"number": complaint.number},
        context={
            "complaint": complaint,
            "customer": complaint.customer,
            "link": site_url(survey_url(invitation)),
            "days": _max_age().days,
        },
        complaint=complaint,
    )
    return invitation


def survey_answer(*, invitation: SurveyInvitation, score: int, comment: str, now=None) -> Survey | None:
    """Records the answer as a crm.Survey of the complaint's customer, linked to the complaint (so it
    counts in the satisfaction KPIs); None, writing nothing, when the invitation was answered already."""
    now = now or timezone.now()
    with transaction.atomic():
        claimed = SurveyInvitation.objects.filter(pk=invitation.pk, answered_at__isnull=True).update(answered_at=now)
        if not claimed:
            return None
        complaint = invitation.complaint
        survey = Survey(
            customer_id=complaint.customer_id,
            complaint=complaint,
            answered_on=timezone.localdate(now),
            score=score,
            comment=comment.strip(),
        )
        survey.full_clean()
        survey.save()
        SurveyInvitation.objects.filter(pk=invitation.pk).update(survey=survey)
    return survey

"""Every kind of e-mail, through the SMTP server, in English and in Chinese: the subject and the
body are in the recipient's language (no untranslated sentence), as plain text and HTML."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from notifications import kinds, services
from tests.factories import CustomerFactory, make_complaint

pytestmark = pytest.mark.django_db

ARGS = {
    "number": "CP0000042",
    "customer": "华东精密机械",
    "reason": "客户再次来电",
    "hours": 4,
    "due": "2026-03-03 01:00",
    "run": 12,
    "file": "orders.csv",
    "created": 2,
    "updated": 1,
    "breaches": 3,
    "churned": 1,
    "satisfaction": "4.50",
}
SUBJECTS_ZH = {
    kinds.COMPLAINT_ASSIGNED: "投诉 CP0000042（华东精密机械）已分配给您",
    kinds.COMPLAINT_REOPENED: "投诉 CP0000042 被重新打开：客户再次来电",
    kinds.SLA_BREACHING_SOON: "投诉 CP0000042 将在 4 小时内到期（2026-03-03 01:00）",
    kinds.SLA_BREACHED: "投诉 CP0000042 已超出服务时限（期限 2026-03-03 01:00）",
    kinds.RUN_FAILED: "分析运行 12 失败",
    kinds.IMPORT_FINISHED: "orders.csv 的导入已完成：新增 2 条，更新 1 条",
    kinds.IMPORT_FAILED: "orders.csv 的导入失败",
    kinds.ACKNOWLEDGMENT: "我们已收到您的投诉 CP0000042",
    kinds.ACTION_PLAN: "关于您的投诉 CP0000042 的处理方案",
    kinds.SURVEY: "您对我们处理 CP0000042 的方式满意吗？",
    kinds.WEEKLY_DIGEST: "本周：3 宗投诉超出服务时限，1 个客户流失，满意度 4.50",
    "task_due": "跟进到期（2026-03-03 01:00）：华东精密机械",  # registered by tasks (TasksConfig.ready)
}
ENGLISH_WORDS = re.compile(r"\b(?:the|your|you|we|complaint|open|this|link)\b", re.IGNORECASE)


def context():
    customer = CustomerFactory(name="华东精密机械")
    complaint = make_complaint(customer=customer, description="货物破损", received_at=timezone.now())
    complaint.number = "CP0000042"
    return {
        "complaint": complaint,
        "customer": customer,
        "action_plan": "明天换货",
        "link": "http://localhost:8000/complaints/1/",
        "days": 30,
        "figures": {
            "start": datetime.date(2026, 3, 3),
            "end": datetime.date(2026, 3, 9),
            "sla_breaches": 3,
            "satisfaction": Decimal("4.5"),
            "survey_answers": 2,
            "churned": [{"code": "K2", "name": "北方物流", "revenue_lost": Decimal("12.5"), "reason": "价格"}],
            "revenue_lost": Decimal("12.5"),
            "concentration_alert": True,
            "top1_share_pct": Decimal("31.5"),
            "hhi": Decimal("2600"),
            "tier_changes": [{"code": "K1", "name": "华东精密机械", "before": "B", "after": "A"}],
        },
    }


def test_every_kind_has_a_chinese_subject():
    assert set(SUBJECTS_ZH) == set(kinds.KINDS)


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_each_kind_in_chinese(kind, smtp):
    row = services.email_queue(kind=kind, to="someone@example.com", language="zh-hans", args=ARGS, context=context())
    services.outbox_send(outbox_id=row.pk)
    [mail] = smtp.received
    assert mail.to == ["someone@example.com"]
    assert mail.subject == SUBJECTS_ZH[kind]
    assert "此邮件由客户价值看板自动发送" in mail.html
    for body in (mail.text, re.sub(r"<[^>]+>|https?://\S+|\"[^\"]*\"", " ", mail.html)):
        assert re.search(r"[\u4e00-\u9fff]", body)
        assert not ENGLISH_WORDS.search(re.sub(r"https?://\S+", " ", body)), body


@pytest.mark.parametrize("kind", sorted(kinds.KINDS))
def test_each_kind_in_english(kind, smtp):
    row = services.email_queue(kind=kind, to="someone@example.com", language="en", args=ARGS, context=context())
    services.outbox_send(outbox_id=row.pk)
    [mail] = smtp.received
    assert mail.subject == kinds.KINDS[kind].subject % ARGS
    assert '<html lang="en">' in mail.html
    assert "This message was sent automatically by the customer value dashboard." in mail.html

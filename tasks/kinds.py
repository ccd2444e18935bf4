"""The notification kind follow-ups add (registered with notifications from TasksConfig.ready())."""

from django.utils.translation import gettext_lazy as _

from notifications.kinds import Kind

TASK_DUE = "task_due"

TASK_DUE_KIND = Kind(TASK_DUE, _("A follow-up of mine is due"), "Follow-up due %(due)s: %(customer)s")

# For makemessages-style review: the subject's msgid, marked (translated when used: Kind.text).
_MSGIDS = (_("Follow-up due %(due)s: %(customer)s"),)

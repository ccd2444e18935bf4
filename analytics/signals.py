"""Keep monthly totals in step with single order changes (admin edits, forms, re-imports of one row)."""

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from crm.models import Customer, Order
from crm.signals import customer_owners_changed

from .reports.portfolio import ownership_changed
from .services.runs import published_run, run_add_prospects
from .totals import monthly_totals_rebuild


@receiver(pre_save, sender=Order)
def remember_old_place(sender, instance: Order, raw=False, **kwargs):
    instance._old_place = None
    if instance.pk and not raw:
        instance._old_place = Order.objects.filter(pk=instance.pk).values_list("customer_id", "ordered_on").first()


@receiver(post_save, sender=Order)
def order_saved(sender, instance: Order, raw=False, **kwargs):
    if raw:
        return
    places = {(instance.customer_id, instance.ordered_on)}
    if getattr(instance, "_old_place", None):
        places.add(instance._old_place)
    for customer_id, day in places:
        monthly_totals_rebuild(customer_ids=[customer_id], months=[day])


@receiver(post_delete, sender=Order)
def order_deleted(sender, instance: Order, **kwargs):
    monthly_totals_rebuild(customer_ids=[instance.customer_id], months=[instance.ordered_on])


@receiver(post_save, sender=Customer)
def customer_created(sender, instance: Customer, created=False, raw=False, **kwargs):
    """A new customer joins the published run as a prospect, so lists that join on it show it."""
    if not created or raw:
        return
    run = published_run()
    if run is not None:
        run_add_prospects(run=run, customer_ids=[instance.pk])


@receiver(customer_owners_changed)
def owners_changed(sender, **kwargs):
    """Customers changed owner: the portfolio and team figures kept per owner are read again."""
    ownership_changed()

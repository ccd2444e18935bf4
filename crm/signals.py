"""Signals crm sends, for the apps above it that keep something derived from customer records.

- `customer_owners_changed`: customers changed owner (sent once the transaction that changed them
  commits), with `customer_ids` and `owner_ids` (the old and the new owners' ids). analytics
  forgets its portfolio and team figures, which are kept per owner in the cache.
"""

from django.dispatch import Signal

customer_owners_changed = Signal()

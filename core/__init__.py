"""Pieces every app shares (localized widgets and formats, error pages, ...): crm, complaints,
analytics and exchange may import from here; core imports none of them."""

"""Paying for a registration: the workflows (services), the one module that talks to Stripe
(gateway) and Stripe's signed webhook (webhooks)."""

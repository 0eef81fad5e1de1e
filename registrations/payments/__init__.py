"""Paying for a registration: starting and giving up a payment and asking for refunds
(services), what Stripe reports about it (stripe_events), carrying out refunds (refunds), the
demo stand-in for Stripe (demo), catching up with Stripe (reconcile), the one module that talks
to Stripe (gateway) and Stripe's signed webhook (webhooks)."""

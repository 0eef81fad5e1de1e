"""Shared primitives every app may use, one module per concern: money, environment, domain
errors, HTTP answers, rate limits, API plumbing and tokens, private storage, logging, the cache,
colours and the task queue. They import nothing from events, registrations or budget."""

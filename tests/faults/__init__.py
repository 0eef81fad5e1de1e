"""Faults the site survives, each proved by a test.

- The mail provider raising on send: the registration stands, the task is queued again with a
  growing delay, and nothing goes out twice. `tests/registrations/test_emails.py`
  (`test_signup_survives_a_mail_server_failure_and_retries_later`,
  `test_mail_task_gives_up_after_the_last_attempt`, `test_invitation_task_retries_too`,
  `test_send_delivers_once_for_the_same_state`); the same for organisers' messages in
  `test_messaging.py` (`test_a_provider_error_is_retried_later_then_failed_and_shown`,
  `test_a_batch_run_twice_mails_everyone_once`) and budget alerts in
  `tests/budget/test_alerts.py` (`test_mail_failure_releases_the_claim_for_a_retry`).
- Stripe unreachable when the Checkout Session is made: the hold stays, a failed attempt is
  left, the person sees a clear message and tries again with a new idempotency key.
  `tests/registrations/test_payments.py` (`test_stripe_down_*`,
  `test_an_unanswered_attempt_is_asked_again_with_the_same_key`,
  `test_a_refund_waits_while_stripe_is_down`); Stripe refusing the request (a 4xx) is an error
  with its request id and another message, a connection error stays an outage, and closing a
  session retries until Stripe confirms: `tests/registrations/payments/test_settling.py`
  (`test_a_refusal_by_stripe_*`, `test_a_connection_error_is_still_an_outage`,
  `test_closing_a_session_retries_until_stripe_confirms`).
- A webhook while the database is locked: 5xx so that Stripe delivers again, and the next
  delivery is handled in full, once. `tests/registrations/test_webhooks.py`
  (`test_a_locked_database_answers_503_so_stripe_retries`, a patched lock) and
  `test_webhook_locked.py` here (a real lock held by another connection).
- The database going away for a moment: the 503 page (or the API's `unavailable`) and no
  half-written registration. `test_database_gone.py`; `/healthz` answering 503 is in
  `tests/jubileum/test_site.py`.
- Redis killed or hanging under the cache and rate limits: every page and API answers as usual,
  from process memory, with one warning; `/readyz` 503, `/healthz` 200; Redis used again once
  back. `test_redis_gone.py`; the task queue in `/readyz`: `tests/jubileum/test_readiness.py`.
- A task worker killed mid-task: the task is queued again (`manage.py requeue_stale_tasks`)
  and its e-mail goes out at most once; message recipients it had claimed become "possibly
  sent". `test_worker_killed.py`, `test_stale_tasks.py`; the message page in
  `tests/registrations/backoffice/test_messaging.py`.
- PostgreSQL going away under the task worker: it waits, comes back, queues again the task the
  outage cut off, and loses none. `test_worker_database_outage.py`; a worker that dies is
  started again by `make serve-prod` in `tests/jubileum/test_serve_prod.py`.
- Migrations forward on an empty PostgreSQL database, back to zero and forward again: step 7
  of `.ci/run`.
"""

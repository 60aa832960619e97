"""Emails (SPEC §6).

- `notifications`: what each email about a booking or a waiting-list entry says, recorded
  as a notice in the change's own transaction and rendered when sent;
- `outbox`: the job runner's sending, with retries, and the reminders it queues.
"""

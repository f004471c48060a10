"""Delivery of pending-approval notifications: e-mail, Web Push and webhooks.

:mod:`.worker` drains the durable outbox (``store.notifications``) after each commit, in
background threads of the wallet process; :mod:`.senders` speaks SMTP, Web Push and HTTP;
:mod:`.vapid` holds the wallet's Web Push identity. See docs/notifications.md.
"""

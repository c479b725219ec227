"""Notifications: events (events.py), what each channel kind sends (channels.py), the channels
and their deliveries in SQLite (service.py), the delivery queue (queue.py) and the checks a
scheduler tick runs (watch.py)."""

"""Notification delivery (R3.2, R4.4, R5.3): preferences, e-mail, the outbox."""

"""Alerting: rules, alert states, notifications, the outbox and the channels they go out on."""

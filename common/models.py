"""Tables every service keeps in its own database (outbox, idempotency records), built on the service's BaseModel."""

from datetime import UTC, datetime

import peewee


def utcnow() -> datetime:
    """Return the current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UtcDateTimeField(peewee.DateTimeField):
    """A datetime stored as naive UTC and always returned timezone-aware (SQLite keeps no zone)."""

    def db_value(self, value):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def outbox_model(base: type[peewee.Model]) -> type[peewee.Model]:
    """Build the outbox table on a service's BaseModel: events written with the business change, sent after."""

    class OutboxMessage(base):
        key = peewee.CharField(max_length=200, unique=True)
        event_type = peewee.CharField(max_length=64)
        destination = peewee.CharField(max_length=32)
        path = peewee.CharField(max_length=200)
        payload = peewee.TextField()
        state = peewee.CharField(max_length=16, default="pending", index=True)
        attempts = peewee.IntegerField(default=0)
        next_attempt_at = UtcDateTimeField(default=utcnow, index=True)
        last_error = peewee.TextField(null=True)
        created_at = UtcDateTimeField(default=utcnow)
        delivered_at = UtcDateTimeField(null=True)

        class Meta:
            table_name = "outbox_message"

    return OutboxMessage


def idempotency_model(base: type[peewee.Model]) -> type[peewee.Model]:
    """Build the table that remembers the first response to each Idempotency-Key."""

    class IdempotencyRecord(base):
        key = peewee.CharField(max_length=200)
        scope = peewee.CharField(max_length=300)
        fingerprint = peewee.CharField(max_length=64)
        status_code = peewee.IntegerField(null=True)
        content_type = peewee.CharField(max_length=100, null=True)
        body = peewee.TextField(null=True)
        created_at = UtcDateTimeField(default=utcnow)

        class Meta:
            table_name = "idempotency_record"
            indexes = ((("scope", "key"), True),)

    return IdempotencyRecord


def integrity_alert_model(base: type[peewee.Model]) -> type[peewee.Model]:
    """Build the table of chain breaks found by the periodic check (common.integrity), one open alert per stream."""

    class IntegrityAlert(base):
        chain = peewee.CharField(max_length=60)
        stream = peewee.CharField(max_length=100)
        row_id = peewee.CharField(max_length=40, null=True)
        differs = peewee.CharField(max_length=20)
        detail = peewee.TextField()
        open_key = peewee.CharField(max_length=170, null=True, unique=True)  # set only while open
        state = peewee.CharField(max_length=10, default="open", index=True)
        opened_at = UtcDateTimeField(default=utcnow)
        closed_at = UtcDateTimeField(null=True)

        class Meta:
            table_name = "integrity_alert"

    return IntegrityAlert

"""Tests of :mod:`monitor.alerting.signing` against the specification's vector and the
independent ``standardwebhooks`` library."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from monitor.alerting.signing import (
    SigningSecretError,
    new_secret,
    parse_secret,
    sign,
    signature_headers,
    verify,
)
from monitor.errors import ConfigError

# Upstream standard-webhooks test vector (reference §2).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_sign_matches_the_specification_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_sign_is_hmac_sha256_of_id_timestamp_body() -> None:
    key = base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    content = b"msg_1.1700000000.hello"
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()

    assert sign(VECTOR_SECRET, "msg_1", 1_700_000_000, b"hello") == f"v1,{expected}"


def test_the_reference_library_verifies_our_headers() -> None:
    secret = new_secret()
    body = b'{"type":"driftline.retrain","data":{"model":"credit"}}'
    now = int(dt.datetime.now(dt.UTC).timestamp())
    headers = signature_headers(secret, "rtr_91xK", now, body)

    assert Webhook(secret).verify(body, headers) == {
        "type": "driftline.retrain",
        "data": {"model": "credit"},
    }


def test_the_reference_library_rejects_a_tampered_body() -> None:
    secret = new_secret()
    now = int(dt.datetime.now(dt.UTC).timestamp())
    headers = signature_headers(secret, "rtr_91xK", now, b'{"score":0.31}')

    with pytest.raises(WebhookVerificationError, match="No matching signature found"):
        Webhook(secret).verify(b'{"score":0.99}', headers)


def test_the_reference_library_rejects_another_secret() -> None:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    headers = signature_headers(new_secret(), "rtr_91xK", now, b"{}")

    with pytest.raises(WebhookVerificationError, match="No matching signature found"):
        Webhook(new_secret()).verify(b"{}", headers)


def test_signature_headers_names_and_values() -> None:
    headers = signature_headers(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)

    assert headers == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": "1614265330",
        "webhook-signature": VECTOR_SIGNATURE,
    }


def test_parse_secret_accepts_missing_padding() -> None:
    key = bytes(range(32))
    padded = base64.b64encode(key).decode()
    assert padded.endswith("=")

    assert parse_secret("whsec_" + padded) == key
    assert parse_secret("whsec_" + padded.rstrip("=")) == key


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "signing secret must start with 'whsec_' followed by base64",
        ),
        ("whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "must start with 'whsec_'"),
        ("whsec_not base64!", "signing secret after 'whsec_' is not valid base64"),
        ("whsec_", "must encode 24 to 64 bytes, got 0 bytes"),
        ("whsec_" + base64.b64encode(b"x" * 23).decode(), "got 23 bytes"),
        ("whsec_" + base64.b64encode(b"x" * 65).decode(), "got 65 bytes"),
    ],
)
def test_parse_secret_rejects_malformed_secrets(secret: str, message: str) -> None:
    with pytest.raises(SigningSecretError, match=message) as caught:
        parse_secret(secret)

    assert isinstance(caught.value, ConfigError)
    encoded = secret.removeprefix("whsec_")
    assert not encoded or encoded not in str(caught.value)  # never echoes the secret


@pytest.mark.parametrize("n_bytes", [24, 64])
def test_parse_secret_accepts_the_bounds(n_bytes: int) -> None:
    assert len(parse_secret("whsec_" + base64.b64encode(b"k" * n_bytes).decode())) == n_bytes


def test_new_secrets_are_random_and_valid() -> None:
    first, second = new_secret(), new_secret(48)

    assert first != new_secret()
    assert len(parse_secret(first)) == 32
    assert len(parse_secret(second)) == 48


@pytest.mark.parametrize("n_bytes", [23, 65])
def test_new_secret_rejects_lengths_outside_the_specification(n_bytes: int) -> None:
    with pytest.raises(ValueError, match=f"between 24 and 64, got {n_bytes}"):
        new_secret(n_bytes)


@pytest.mark.parametrize(
    ("msg_id", "timestamp", "message"),
    [
        ("msg.1", 1, r"webhook id must be non-empty and contain no '\.', got 'msg\.1'"),
        ("", 1, "webhook id must be non-empty"),
        ("msg_1", -1, "non-negative integer of Unix seconds, got -1"),
        ("msg_1", 1.5, "non-negative integer of Unix seconds, got 1.5"),
    ],
)
def test_sign_rejects_ids_and_timestamps_that_break_the_format(
    msg_id: str, timestamp: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sign(VECTOR_SECRET, msg_id, timestamp, b"{}")


# -- verify: what a receiver of Driftline's webhooks (the demo's) checks ----------------------


def library_headers(secret: str, msg_id: str, moment: dt.datetime, body: bytes) -> dict[str, str]:
    """Headers signed by the independent ``standardwebhooks`` library."""
    signature = Webhook(secret).sign(msg_id, moment, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": signature,
    }


def test_verify_accepts_what_the_reference_library_signs() -> None:
    secret, moment = new_secret(), dt.datetime.now(dt.UTC)
    headers = library_headers(secret, "msg_7", moment, b'{"a":1}')

    assert verify(secret, headers, b'{"a":1}', now=int(moment.timestamp())) is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"body": b'{"a":2}'}, "no v1 signature matches the body"),
        ({"secret": "other"}, "no v1 signature matches the body"),
        ({"now_shift": 301}, "webhook-timestamp is 301s away from now"),
        ({"now_shift": -301}, "webhook-timestamp is -301s away from now"),
        ({"drop": "webhook-signature"}, "missing webhook-id"),
        ({"drop": "webhook-id"}, "missing webhook-id"),
        ({"timestamp": "soon"}, "webhook-timestamp 'soon' is not Unix seconds"),
    ],
)
def test_verify_names_what_is_wrong(change: dict[str, object], problem: str) -> None:
    secret, moment = new_secret(), dt.datetime.now(dt.UTC)
    headers = library_headers(secret, "msg_7", moment, b'{"a":1}')
    if "drop" in change:
        del headers[str(change["drop"])]
    if "timestamp" in change:
        headers["webhook-timestamp"] = str(change["timestamp"])
    body = change.get("body", b'{"a":1}')
    key = new_secret() if change.get("secret") == "other" else secret
    now = int(moment.timestamp()) + int(change.get("now_shift", 0))  # type: ignore[call-overload]

    result = verify(key, headers, body, now=now)  # type: ignore[arg-type]

    assert result is not None
    assert result.startswith(problem), result


def test_verify_accepts_any_of_several_signatures() -> None:
    """A sender rotating its secret signs with both, space-separated (the specification)."""
    old, new, now = new_secret(), new_secret(), 1_700_000_000
    first = signature_headers(old, "msg_7", now, b"{}")
    second = signature_headers(new, "msg_7", now, b"{}")
    signatures = f"{first['webhook-signature']} {second['webhook-signature']}"
    both = {**first, "webhook-signature": signatures}

    assert verify(new, both, b"{}", now=now) is None
    assert verify(old, both, b"{}", now=now) is None
    assert verify(new_secret(), both, b"{}", now=now) == "no v1 signature matches the body"

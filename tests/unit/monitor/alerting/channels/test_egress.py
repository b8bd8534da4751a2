"""Tests of :mod:`monitor.alerting.egress`: the SSRF policy, Retry-After and classification."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import httpx
import pytest

from monitor.alerting.egress import (
    EgressPolicy,
    EgressRefusedError,
    UnresolvableHostError,
    classify,
    egress_policy,
    parse_retry_after,
)
from monitor.errors import ConfigError, SettingsError
from monitor.settings import Settings

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
ALLOWED = "refused unless allow-listed in DRIFTLINE_EGRESS_ALLOW"


def _fixed(answers: dict[str, Sequence[str]]) -> EgressPolicy:
    """A policy whose DNS answers are given (host names only; literals never reach it)."""

    def resolve(host: str, port: int) -> Sequence[str]:
        if host not in answers:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return answers[host]

    return EgressPolicy(resolver=resolve)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://10.0.0.1/hook", "http://10.0.0.1/... resolves to 10.0.0.1, a private address"),
        ("https://172.16.0.1", "https://172.16.0.1 resolves to 172.16.0.1, a private address"),
        ("http://192.168.1.1:8080/x", "resolves to 192.168.1.1, a private address"),
        ("http://127.0.0.1:9000/x", "resolves to 127.0.0.1, a loopback address"),
        (
            "http://169.254.169.254/latest/meta-data/",
            "webhook URL http://169.254.169.254/... resolves to 169.254.169.254, a link-local "
            f"address; {ALLOWED}",
        ),
        ("http://[::1]:8080/", "http://[::1]:8080 resolves to ::1, a loopback address"),
        (
            "http://[::ffff:127.0.0.1]/",
            "resolves to ::ffff:127.0.0.1, an IPv4-mapped form of 127.0.0.1, a loopback address",
        ),
        ("http://[fe80::1]/", "resolves to fe80::1, a link-local address"),
        ("http://0.0.0.0:8000/", "resolves to 0.0.0.0, an unspecified ('this network') address"),
        ("http://[::]/", "resolves to ::, the unspecified address"),
        ("http://100.64.0.1/", "resolves to 100.64.0.1, a shared (carrier-grade NAT) address"),
        ("http://224.0.0.1/", "resolves to 224.0.0.1, a multicast address"),
        ("http://255.255.255.255/", "resolves to 255.255.255.255, the broadcast address"),
        ("http://240.0.0.1/", "resolves to 240.0.0.1, a reserved address"),
        ("http://[fd00:ec2::254]/", "resolves to fd00:ec2::254, a unique-local (private) address"),
        (
            "http://[64:ff9b::a9fe:a9fe]/",
            "resolves to 64:ff9b::a9fe:a9fe, a NAT64 form of 169.254.169.254, a link-local address",
        ),
        (
            "http://[2002:a9fe:a9fe::1]/",
            "resolves to 2002:a9fe:a9fe::1, a 6to4 form of 169.254.169.254, a link-local address",
        ),
        ("http://[ff02::1]/", "resolves to ff02::1, a multicast address"),
        ("http://192.0.2.10/", "resolves to 192.0.2.10, a documentation address"),
    ],
)
def test_non_public_addresses_are_refused(url: str, message: str) -> None:
    with pytest.raises(EgressRefusedError) as caught:
        EgressPolicy().check_url(url)

    assert message in str(caught.value)
    assert str(caught.value).endswith(ALLOWED)
    assert isinstance(caught.value, ConfigError)


@pytest.mark.parametrize(
    ("url", "scheme"),
    [
        ("file:///etc/passwd", "file"),
        ("gopher://127.0.0.1:70/_x", "gopher"),
        ("ftp://x.org", "ftp"),
    ],
)
def test_only_http_and_https_schemes(url: str, scheme: str) -> None:
    with pytest.raises(EgressRefusedError) as caught:
        EgressPolicy(["127.0.0.1"]).check_url(url)

    assert f"uses the scheme '{scheme}'; only http and https are allowed" in str(caught.value)


def test_messages_hide_the_path_and_query_of_a_url() -> None:
    with pytest.raises(EgressRefusedError) as caught:
        EgressPolicy().check_url("http://user:pw@10.1.2.3/services/T0/B0/s3cr3t?sig=s3cr3t")

    assert str(caught.value).startswith("webhook URL http://10.1.2.3/... resolves to 10.1.2.3")
    assert "s3cr3t" not in str(caught.value)
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://127.0.0.1/",
        "http://[::ffff:127.0.0.1]/",  # the mapped form of an allowed address
        "http://10.1.2.3/",
        "http://[fd00::5]/",
    ],
)
def test_allow_listed_addresses_pass(url: str) -> None:
    EgressPolicy(["127.0.0.1", "10.0.0.0/8", " fd00::/8 "]).check_url(url)


def test_allow_list_is_exact() -> None:
    with pytest.raises(EgressRefusedError, match=r"127\.0\.0\.2, a loopback address"):
        EgressPolicy(["127.0.0.1"]).check_url("http://127.0.0.2/")


@pytest.mark.parametrize(
    "url", ["https://93.184.215.14/hook", "https://[2606:4700:4700::1111]/", "http://8.8.8.8:81/"]
)
def test_public_addresses_pass(url: str) -> None:
    EgressPolicy().check_url(url)


def test_every_answer_of_a_host_name_must_be_public() -> None:
    policy = _fixed({"hooks.example.com": ["93.184.215.14", "10.0.0.7"]})

    with pytest.raises(EgressRefusedError) as caught:
        policy.check_url("https://hooks.example.com/driftline")

    assert str(caught.value) == (
        "webhook URL https://hooks.example.com/... resolves to 10.0.0.7, a private address; "
        f"{ALLOWED}"
    )


def test_resolve_returns_the_checked_addresses() -> None:
    policy = _fixed(
        {"hooks.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]}
    )

    target = policy.resolve("https://hooks.example.com:8443/x")

    assert (target.scheme, target.host, target.port) == ("https", "hooks.example.com", 8443)
    assert [str(address) for address in target.addresses] == [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ]


def test_allow_listed_host_names_may_resolve_anywhere() -> None:
    def resolve(host: str, port: int) -> Sequence[str]:
        return ["10.9.8.7"]

    policy = EgressPolicy(["Airflow.internal.example."], resolver=resolve)

    target = policy.resolve("http://airflow.internal.example:8080/api/v1")

    assert [str(address) for address in target.addresses] == ["10.9.8.7"]
    with pytest.raises(EgressRefusedError):
        policy.check_url("http://other.internal.example/")


def test_unresolvable_host_names_are_not_refusals() -> None:
    with pytest.raises(UnresolvableHostError, match=r"cannot resolve 'nowhere\.example'"):
        _fixed({}).check_url("https://nowhere.example/hook")


def test_real_resolution_of_localhost_is_refused() -> None:
    with pytest.raises(EgressRefusedError, match="a loopback address"):
        EgressPolicy().check_url("http://localhost:8080/")


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "127.1"])
def test_numeric_host_spellings_are_judged_by_what_they_resolve_to(host: str) -> None:
    # ipaddress rejects these spellings but getaddrinfo resolves them to 127.0.0.1.
    with pytest.raises(EgressRefusedError, match=r"resolves to 127\.0\.0\.1, a loopback"):
        EgressPolicy().check_url(f"http://{host}/")


@pytest.mark.parametrize("entry", ["not a host", "10.0.0.0/33", "-bad.example", "http://x.org"])
def test_malformed_allow_entries_are_settings_errors(entry: str) -> None:
    with pytest.raises(SettingsError) as caught:
        EgressPolicy([entry])

    assert str(caught.value) == (
        f"DRIFTLINE_EGRESS_ALLOW: {entry!r} is neither an IP address or network "
        "(like 127.0.0.1 or 10.0.0.0/8) nor a host name"
    )
    assert caught.value.env_var == "DRIFTLINE_EGRESS_ALLOW"


def test_egress_policy_reads_the_setting() -> None:
    policy = egress_policy(Settings(egress_allow="127.0.0.1, ,hooks.internal"))

    assert repr(policy) == "EgressPolicy(allow=['127.0.0.1/32', 'hooks.internal'])"
    policy.check_url("http://127.0.0.1:1/")
    with pytest.raises(EgressRefusedError):
        egress_policy(Settings()).check_url("http://127.0.0.1:1/")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Fri, 01 May 2026 12:00:30 GMT", 30.0),
        ("Friday, 01-May-26 12:01:00 GMT", 60.0),
        ("Fri, 01 May 2026 11:59:00 GMT", 0.0),  # in the past
        (None, None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def _response(status: int, body: bytes = b"", **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, content=body)


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_classify_success(status: int) -> None:
    result = classify(_response(status), b"", now=NOW)

    assert (result.outcome, result.status_code, result.error) == ("delivered", status, None)


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504, 507])
def test_classify_retryable(status: int) -> None:
    result = classify(_response(status, b"busy", **{"Retry-After": "7"}), b"busy", now=NOW)

    assert result.outcome == "retry"
    assert result.retry_after_seconds == 7.0
    assert result.response_excerpt == "busy"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422, 501, 505])
def test_classify_permanent(status: int) -> None:
    body = b"invalid_payload\n  details   here"

    result = classify(_response(status, body), body, now=NOW)

    assert result.outcome == "failed"
    assert result.retry_after_seconds is None
    assert result.response_excerpt == "invalid_payload details here"
    assert result.error is not None
    assert result.error.endswith(": invalid_payload details here")


def test_classify_gone() -> None:
    result = classify(_response(410, b"channel_is_archived"), b"channel_is_archived", now=NOW)

    assert result.outcome == "failed"
    assert result.error == (
        "receiver answered 410 Gone: the endpoint no longer exists; fix or remove the channel"
    )


def test_classify_redirect() -> None:
    response = _response(307, Location="http://169.254.169.254/latest/meta-data/")

    result = classify(response, b"", now=NOW)

    assert result.outcome == "failed"
    assert result.error == (
        "receiver answered 307 Temporary Redirect redirecting to "
        "http://169.254.169.254/latest/meta-data/; redirects are not followed: point the "
        "channel at the final URL"
    )


def test_excerpts_are_bounded() -> None:
    body = ("é" * 1000).encode()

    result = classify(_response(400, body), body, now=NOW)

    assert result.response_excerpt is not None
    assert len(result.response_excerpt) == 300
    assert result.response_excerpt.endswith("…")

"""Normalising perpetrator identifiers so the same handle written differently is one row.

Each normaliser takes the raw value (and a qualifier: platform, bank or provider) and returns
(qualifier, value) in canonical form, or raises InvalidIdentifier with a message safe to show.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import phonenumbers

from casework import payment_providers
from casework.models.identifiers import IdentifierKind

DEFAULT_REGION = "MY"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_HANDLE = re.compile(r"^[\w.\-]{1,100}$")
_TRACKING_PARAMS = re.compile(r"^(utm_.*|fbclid|gclid|igshid|igsh|si|ref|mibextid)$", re.IGNORECASE)
_TELEGRAM_HOSTS = {"t.me", "telegram.me", "telegram.dog"}


class InvalidIdentifier(ValueError):
    """The value cannot be an identifier of this kind; the message says why."""


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Any way of writing a phone number -> E.164 (Malaysia assumed without a country code)."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier("Not a phone number.") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentifier("Not a valid phone number for its country.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    value = raw.strip().lower()
    if not _EMAIL.match(value):
        raise InvalidIdentifier("Not a valid e-mail address.")
    return value


def normalise_url(raw: str) -> str:
    """Scheme and host lower-cased, http and https as one, default port, fragment and tracking
    parameters dropped, remaining parameters sorted, no trailing slash."""
    text = raw.strip()
    if "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname or "." not in parts.hostname:
        raise InvalidIdentifier("Not a web address (http or https with a host name).")
    host = parts.hostname.lower().rstrip(".")
    host = host[4:] if host.startswith("www.") else host
    try:
        port = parts.port
    except ValueError as exc:
        raise InvalidIdentifier("The port is not a number.") from exc
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING_PARAMS.match(k)))
    path = parts.path.rstrip("/")
    return urlunsplit(("https", netloc, path, query, ""))


def normalise_username(raw: str) -> str:
    value = raw.strip().lstrip("@").lower()
    if not _HANDLE.match(value):
        raise InvalidIdentifier("A username is 1-100 letters, digits, '.', '_' or '-'.")
    return value


def normalise_chat_group(raw: str) -> tuple[str, str]:
    """Telegram links and @handles -> https://t.me/<name> (invite links keep their case);
    WhatsApp invites -> https://chat.whatsapp.com/<code>; other links canonicalised."""
    text = raw.strip()
    if text.startswith("@"):
        return "telegram", f"https://t.me/{normalise_username(text)}"
    url = normalise_url(text)
    parts = urlsplit(url)
    segments = [s for s in urlsplit(text if "://" in text else "https://" + text).path.split("/") if s]
    if parts.hostname in _TELEGRAM_HOSTS:
        if not segments:
            raise InvalidIdentifier("A Telegram link needs a group or channel name.")
        if segments[0] == "joinchat" and len(segments) > 1:
            return "telegram", f"https://t.me/+{segments[1]}"
        if segments[0].startswith("+"):
            return "telegram", f"https://t.me/{segments[0]}"
        return "telegram", f"https://t.me/{normalise_username(segments[0])}"
    if parts.hostname == "chat.whatsapp.com" and segments:
        return "whatsapp", f"https://chat.whatsapp.com/{segments[0]}"
    return "", url


def normalise_bank_account(raw: str) -> str:
    digits = re.sub(r"[\s\-]", "", raw)
    if not digits.isdigit() or not 6 <= len(digits) <= 20:
        raise InvalidIdentifier("A bank account number is 6-20 digits (spaces and dashes ignored).")
    return digits


def normalise_ewallet(raw: str) -> str:
    text = raw.strip()
    if re.fullmatch(r"[+\d][\d\s\-]{6,}", text):
        return normalise_phone(text)
    return normalise_username(text)


def normalise_ip(raw: str) -> str:
    try:
        return ipaddress.ip_address(raw.strip()).compressed
    except ValueError as exc:
        raise InvalidIdentifier("Not an IPv4 or IPv6 address.") from exc


def normalise_other(raw: str) -> str:
    value = " ".join(raw.split())
    if not value:
        raise InvalidIdentifier("Must not be blank.")
    return value


def _qualifier(raw: str | None) -> str:
    return " ".join((raw or "").lower().split())


def _provider(kind: str, raw: str | None) -> str:
    """A bank's or e-wallet's code from the reference list (`AmBank Berhad`, `AMBB` -> `ambank`),
    else the qualifier as written, lower-cased (a provider not on the list is still recorded)."""
    return payment_providers.canonical(kind, raw or "") or _qualifier(raw)


_SIMPLE: dict[IdentifierKind, Callable[[str], str]] = {
    IdentifierKind.PHONE: normalise_phone,
    IdentifierKind.EMAIL: normalise_email,
    IdentifierKind.URL: normalise_url,
    IdentifierKind.IP_ADDRESS: normalise_ip,
    IdentifierKind.OTHER: normalise_other,
}
# Kinds whose value only means something together with a qualifier.
QUALIFIER_REQUIRED = {
    IdentifierKind.USERNAME: "platform",
    IdentifierKind.BANK_ACCOUNT: "bank",
    IdentifierKind.EWALLET: "provider",
}


def normalise(kind: IdentifierKind, raw: str, qualifier: str | None = None) -> tuple[str, str]:
    """(qualifier, value) in canonical form for this kind; raises InvalidIdentifier."""
    if not raw or not raw.strip():
        raise InvalidIdentifier("Must not be blank.")
    if kind in _SIMPLE:
        return "", _SIMPLE[kind](raw)
    if kind == IdentifierKind.CHAT_GROUP:
        platform, value = normalise_chat_group(raw)
        return platform or _qualifier(qualifier), value
    if not _qualifier(qualifier):
        raise InvalidIdentifier(f"Give the {QUALIFIER_REQUIRED[kind]} as 'qualifier'.")
    if kind == IdentifierKind.USERNAME:
        return _qualifier(qualifier), normalise_username(raw)
    if kind == IdentifierKind.BANK_ACCOUNT:
        return _provider("bank", qualifier), normalise_bank_account(raw)
    return _provider("ewallet", qualifier), normalise_ewallet(raw)

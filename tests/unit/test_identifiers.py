"""Normalisation: the same identifier written differently becomes one value."""

from __future__ import annotations

import pytest

from casework.identifiers import InvalidIdentifier, normalise
from casework.models.identifiers import IdentifierKind as K


@pytest.mark.parametrize(
    "kind, raw, qualifier, expected",
    [
        (K.PHONE, "012-345 6789", None, ("", "+60123456789")),
        (K.PHONE, "+60 12 345 6789", None, ("", "+60123456789")),
        (K.PHONE, "60123456789", None, ("", "+60123456789")),
        (K.PHONE, "+44 20 7946 0958", None, ("", "+442079460958")),
        (K.EMAIL, "  Bad.Guy@Example.COM ", None, ("", "bad.guy@example.com")),
        (
            K.URL,
            "HTTP://www.Example.com/path/?b=2&a=1&utm_source=x#frag",
            None,
            ("", "https://example.com/path?a=1&b=2"),
        ),
        (K.URL, "example.com/p", None, ("", "https://example.com/p")),
        (K.USERNAME, "@Predator_99", "Instagram", ("instagram", "predator_99")),
        (K.CHAT_GROUP, "https://t.me/SomeGroup", None, ("telegram", "https://t.me/somegroup")),
        (K.CHAT_GROUP, "t.me/somegroup/", None, ("telegram", "https://t.me/somegroup")),
        (K.CHAT_GROUP, "@SomeGroup", None, ("telegram", "https://t.me/somegroup")),
        (K.CHAT_GROUP, "https://telegram.me/joinchat/AbCdEf", None, ("telegram", "https://t.me/+AbCdEf")),
        (K.CHAT_GROUP, "https://chat.whatsapp.com/KxYz123", None, ("whatsapp", "https://chat.whatsapp.com/KxYz123")),
        (K.BANK_ACCOUNT, "1234-5678 9012", " Maybank ", ("maybank", "123456789012")),
        (K.EWALLET, "012 345 6789", "Touch 'n Go", ("touch 'n go", "+60123456789")),
        (K.IP_ADDRESS, " 2001:0db8::0001 ", None, ("", "2001:db8::1")),
        (K.OTHER, "  some   free  text ", None, ("", "some free text")),
    ],
)
def test_normalises(kind, raw, qualifier, expected):
    assert normalise(kind, raw, qualifier) == expected


@pytest.mark.parametrize(
    "kind, raw, qualifier, message",
    [
        (K.PHONE, "12345", None, "phone"),
        (K.PHONE, "call me", None, "phone"),
        (K.EMAIL, "not-an-email", None, "e-mail"),
        (K.URL, "ftp://x.com/a", None, "web address"),
        (K.USERNAME, "name", None, "platform"),
        (K.BANK_ACCOUNT, "12ab", "maybank", "digits"),
        (K.IP_ADDRESS, "999.1.1.1", None, "IPv4"),
        (K.OTHER, "   ", None, "blank"),
    ],
)
def test_rejects_with_a_reason(kind, raw, qualifier, message):
    with pytest.raises(InvalidIdentifier, match=message):
        normalise(kind, raw, qualifier)

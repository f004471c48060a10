"""Amounts in minor units: the currency table, currency normalisation and human formatting.

Amounts travel as integers in the currency's smallest unit (cents for USD), as in the
Link API (contract §7). This module holds the one table of currencies the wallet accepts and
how many decimals each has, and turns amounts into text a person can read (the wallet's
pages, the demo merchant, ``link-cli demo``); it never does arithmetic on floats. It imports
nothing from the package, so every layer may use it.

The table is ISO 4217 (active codes with a minor unit; no metals, test or "no currency"
codes), with the decimals Stripe's API uses on the wire where they differ from ISO, since
amounts reach the wallet in Stripe's units: ISK counts two decimals, MGA none.
"""

from __future__ import annotations

__all__ = [
    "CURRENCY_DECIMALS",
    "ZERO_DECIMAL_CURRENCIES",
    "format_amount",
    "is_ascii_digits",
    "is_currency_code",
    "minor_unit_digits",
    "normalize_currency",
]

_TWO_DECIMALS = (
    "aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bmd bnd bob bov brl bsd btn bwp "
    "byn bzd cad cdf che chf chw cny cop cou crc cup cve czk dkk dop dzd egp ern etb eur fjd "
    "fkp gbp gel ghs gip gmd gtq gyd hkd hnl htg huf idr ils inr irr isk jmd kes kgs khr kpw "
    "kyd kzt lak lbp lkr lrd lsl mad mdl mkd mmk mnt mop mru mur mvr mwk mxn mxv myr mzn nad "
    "ngn nio nok npr nzd pab pen pgk php pkr pln qar ron rsd rub sar sbd scr sdg sek sgd shp "
    "sle sos srd ssp stn svc syp szl thb tjs tmt top try ttd twd tzs uah usd usn uyu uzs ved "
    "ves wst xcd xcg yer zar zmw zwg"
)
# Stripe's zero-decimal list (ISO 4217 gives MGA two, Stripe's API none).
_ZERO_DECIMALS = "bif clp djf gnf jpy kmf krw mga pyg rwf ugx uyi vnd vuv xaf xof xpf"
_THREE_DECIMALS = "bhd iqd jod kwd lyd omr tnd"
_FOUR_DECIMALS = "clf uyw"

CURRENCY_DECIMALS: dict[str, int] = {
    **dict.fromkeys(_TWO_DECIMALS.split(), 2),
    **dict.fromkeys(_ZERO_DECIMALS.split(), 0),
    **dict.fromkeys(_THREE_DECIMALS.split(), 3),
    **dict.fromkeys(_FOUR_DECIMALS.split(), 4),
}
"""Lowercase ISO 4217 code → digits after the decimal point in its minor unit."""

ZERO_DECIMAL_CURRENCIES = frozenset(c for c, d in CURRENCY_DECIMALS.items() if d == 0)

# Symbols for the currencies people are most likely to see; others show their code.
_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}


def is_ascii_digits(value: str) -> bool:
    """True for a non-empty run of ASCII ``0``–``9`` only.

    ``str.isdigit()`` is also true for ``"²"`` or ``"١٢"``, which ``int()`` then refuses or
    reads as a number the person never typed: amounts, ids and numbers are checked with this.
    """
    return value.isascii() and value.isdigit()


def is_currency_code(value: str) -> bool:
    """True when ``value`` is a currency of :data:`CURRENCY_DECIMALS` (case-insensitive)."""
    return isinstance(value, str) and value.isascii() and value.lower() in CURRENCY_DECIMALS


def minor_unit_digits(currency: str) -> int:
    """Decimals of ``currency``'s minor unit; raises ``ValueError`` for an unknown code."""
    digits = CURRENCY_DECIMALS.get(currency.lower()) if currency.isascii() else None
    if digits is None:
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")
    return digits


def normalize_currency(value: str) -> str:
    """Return the lowercase form of a known currency code (``"USD"`` → ``"usd"``)."""
    if not is_currency_code(value):
        raise ValueError(f"not an ISO 4217 currency code: {value!r}")
    return value.lower()


def format_amount(amount: int, currency: str) -> str:
    """Format minor units for people: ``format_amount(5000, "usd")`` → ``"$50.00"``.

    Each currency shows its own decimals (``¥500``, ``1.500 KWD``); codes without a symbol
    print as ``"12.34 CHF"``. An unknown code (never accepted from input) is shown in two
    decimals. Negative amounts keep their sign in front.
    """
    code = currency.lower()
    sign = "-" if amount < 0 else ""
    magnitude = abs(amount)
    digits = CURRENCY_DECIMALS.get(code, 2)
    if digits == 0:
        number = f"{magnitude:,}"
    else:
        whole, fraction = divmod(magnitude, 10**digits)
        number = f"{whole:,}.{fraction:0{digits}d}"
    symbol = _SYMBOLS.get(code)
    if symbol is not None:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number} {code.upper()}"

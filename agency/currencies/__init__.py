"""Currencies: ISO 4217 checks, dated exchange rates and conversion (below deals and money, so
both can convert)."""

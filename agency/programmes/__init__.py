"""Monetisation programmes: versioned rules, the rule compiler, the eligibility engine, forecasts
and activations."""

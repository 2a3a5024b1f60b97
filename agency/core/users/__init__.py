"""Staff accounts, their API tokens and roles."""

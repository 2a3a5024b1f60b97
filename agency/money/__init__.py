"""Money: revenue records, monthly statements, and diversification of income."""

"""The roster: creators, their platform accounts, guideline strikes, and who manages whom."""

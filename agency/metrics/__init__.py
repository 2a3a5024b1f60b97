"""Daily metric snapshots per platform account, and their imports."""

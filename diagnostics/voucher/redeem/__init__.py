"""Station redeem anomalies, read from the app database."""

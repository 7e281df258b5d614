"""Voucher preview failures: Integrations Status, the preview Edge Function, a test preview."""

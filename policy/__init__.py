"""The security baseline as a Pulumi CrossGuard policy pack (see baseline.py)."""

"""Event-sourced, compliance-first core for GDPR Art. 28 data processors."""

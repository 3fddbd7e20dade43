"""The `processor` command line (installed as `processor_cli`)."""

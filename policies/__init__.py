"""Policy files (TOML), shipped with the package as `processor_policies`."""

"""Core of sca: config, stage runner, artifacts, tracking, data layer, sandbox and the `sca` command."""

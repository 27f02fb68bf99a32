"""Thin `sca` subcommands that wire the runner to the shell."""

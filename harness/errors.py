"""User-facing errors: the CLI prints them as one line, never a traceback."""


class UserError(Exception):
    """A mistake the user can fix (bad config, bad input file, missing data).

    The message must name the file, key or line at fault.
    """

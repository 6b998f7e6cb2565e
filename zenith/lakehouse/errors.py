"""The one exception type the CLI turns into a one-line error and a non-zero exit."""


class ZenithError(Exception):
    """A problem the user can fix: bad input, bad setup, missing tool. The message is one line."""

"""The one exception type gan_lib raises for mistakes a user can fix (bad input, missing data)."""


class GanLibError(Exception):
    """A user-facing error: its message says what is wrong and how to fix it.

    The command line prints it as a single line on stderr and exits with status 2.
    """

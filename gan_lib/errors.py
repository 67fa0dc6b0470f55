"""The one exception type gan_lib raises for mistakes a user can fix (bad input, missing data)."""


class GanLibError(Exception):
    """A user-facing error: its message says what is wrong and how to fix it.

    The command line prints it as a single line on stderr and exits with status 2. In a notebook
    (IPython) it stops the cell with that line instead of a page of traceback.
    """

    def _render_traceback_(self) -> list[str]:
        """IPython's hook for an exception's own traceback (``showtraceback`` calls it): the
        one sentence, ``GanLibError: ...`` (``%tb`` still shows the full traceback)."""
        return [f"{type(self).__name__}: {self}"]

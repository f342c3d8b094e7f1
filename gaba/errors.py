"""gaba's own exception classes, each a subclass of the built-in one it refines."""

__all__ = ["ModelFileError", "UnknownModelError"]


class ModelFileError(ValueError):
    """A file given to :func:`gaba.zoo.load` is not one that :meth:`gaba.zoo.Model.save`
    writes.

    The message names the file and what is wrong with it: truncated or not a zip archive,
    bad or missing metadata, a format version or model this gaba does not know, a weight
    of the wrong dtype, shape or size, missing or unexpected entries, or an entry larger
    than the model allows. It is a ValueError, so ``except ValueError`` catches it too.

    Parameters
    ----------
    message : str
        What is wrong, naming the file.

    Raises
    ------
    ModelFileError
        Raised by :func:`gaba.zoo.load`; a missing file raises FileNotFoundError instead.

    Examples
    --------
    >>> import io, gaba
    >>> try:
    ...     gaba.zoo.load(io.BytesIO(b"PK"))
    ... except gaba.ModelFileError as e:
    ...     print(str(e).split(": ", 2)[2])
    not a readable zip archive (truncated or damaged) (BadZipFile: File is not a zip file)
    """

    def __init__(self, message):
        super().__init__(message)


class UnknownModelError(KeyError, ValueError):
    """:func:`gaba.zoo.create` or :func:`gaba.zoo.info` was given a name that is not
    one of :func:`gaba.zoo.names`.

    The message names the closest model names. It is a ValueError (a bad argument)
    and, as before, a KeyError (a failed lookup by name), so either ``except``
    catches it.

    Parameters
    ----------
    message : str
        The name that was given and the closest known ones.

    Raises
    ------
    UnknownModelError
        Raised by :func:`gaba.zoo.create` and :func:`gaba.zoo.info`.

    Examples
    --------
    >>> import gaba
    >>> try:
    ...     gaba.zoo.create("KeywordSpot")
    ... except gaba.UnknownModelError as e:
    ...     print(e)
    zoo: no model named 'KeywordSpot' (did you mean 'KeywordSpotMicro'?); see gaba.zoo.names()
    """

    def __init__(self, message):
        super().__init__(message)

    def __str__(self):  # the message as given, not KeyError's repr of it
        return str(self.args[0])

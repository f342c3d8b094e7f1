"""gaba's own exception classes, each a subclass of the built-in one it refines."""

__all__ = ["ModelFileError"]


class ModelFileError(ValueError):
    """A file given to :func:`gaba.zoo.load` is not one that :meth:`gaba.zoo.Model.save`
    writes.

    The message names the file and what is wrong with it: truncated or not a zip archive,
    bad or missing metadata, a format version or model this gaba does not know, a weight
    of the wrong dtype, shape or size, missing or unexpected entries, or an entry larger
    than the model allows. It is a ValueError, so ``except ValueError`` catches it too.

    Parameters
    ----------
    *args
        As for ValueError: the message.

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

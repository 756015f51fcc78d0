"""URL converters shared by pages and API."""

from werkzeug.routing import IntegerConverter

from core.validation import MAX_INT


class IdConverter(IntegerConverter):
    """`<int:…>` bounded to what an id column holds, so a huge number in a URL is a 404 instead of a
    database overflow (a 500); flask-smorest documents the bound as the parameter's `maximum`."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: ANN001 - werkzeug's Map
        kwargs.setdefault("max", MAX_INT)
        super().__init__(map, *args, **kwargs)

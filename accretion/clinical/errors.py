"""The one error shape of the clinical core: which field is at fault, and why, on one line."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split("\n")).replace("\r", " ")


class FieldError(ValueError):
    """Bad input, with the JSON path of the field at fault and a one-line message.

    `str(error)` is `"{field}: {message}"`: what the CLI prints and the API's
    error body carries.
    """

    def __init__(self, field: str, message: str) -> None:
        field, message = _one_line(field), _one_line(message)
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"

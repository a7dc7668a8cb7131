"""Text types shared by every REST model and websocket frame: no control characters where text has no use for them.

A NUL byte is refused by PostgreSQL (a 500 if it reaches the driver) and other C0 characters only
disguise text, so they are refused here, with a 422 (REST) or an `invalid_frame` error (sockets).
The rule itself is knowledge_base.models.control_problem, which article imports use too.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from knowledge_base.models import control_problem


def _line(value: str) -> str:
    problem = control_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _text(value: str) -> str:
    problem = control_problem(value, multiline=True)
    if problem:
        raise ValueError(problem)
    return value


# One line of text (an email, a name, a title, a search): no control character at all.
Line = Annotated[str, AfterValidator(_line)]
# Text that may span lines (an article body, a canned reply): tab, newline and carriage return allowed.
Text = Annotated[str, AfterValidator(_text)]

# One address, nothing more: no whitespace or control characters (so no header injection, no NUL),
# no list or display-name syntax.
EmailAddress = Annotated[Line, StringConstraints(min_length=3, max_length=254,
                                                 pattern=r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")]

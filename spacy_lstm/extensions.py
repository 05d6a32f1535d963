"""Install the Doc and Token extensions that the components set, without
overwriting an extension of the same name that another package defined."""

from typing import Set, Tuple, Type, Union

from spacy.tokens import Doc, Token

_INSTALLED: Set[Tuple[str, str]] = set()


def install_extension(
    cls: Union[Type[Doc], Type[Token]], name: str, component: str, **kwargs
) -> None:
    """Set cls._.name (kwargs as for set_extension) once per process.

    component (str): The component that needs it, named in the error.
    """
    if (cls.__name__, name) in _INSTALLED:
        return
    if cls.has_extension(name):
        raise ValueError(
            f"{cls.__name__}._.{name} is already defined by another package or "
            f"by your code, and {component} (spacy-lstm) sets it. Remove the "
            f"other one ({cls.__name__}.remove_extension({name!r})) before "
            f"creating {component}."
        )
    cls.set_extension(name, **kwargs)
    _INSTALLED.add((cls.__name__, name))


# Where lstm_tokenizer keeps the original text of a doc whose multiword tokens
# it expanded ("du" read as "de le"), with each token's span in that text.
SURFACE_KEY = "spacy_lstm.surface"


def surface_text(doc: Doc) -> str:
    """The text the doc was made from: doc.text unless multiword tokens were
    expanded into words."""
    saved = doc.user_data.get(SURFACE_KEY)
    return saved[0] if saved else doc.text


def surface_span(token: Token) -> Tuple[int, int]:
    """The characters of surface_text(doc) that the token was read from: the
    whole multiword token for each of its words."""
    saved = token.doc.user_data.get(SURFACE_KEY)
    if saved:
        return tuple(saved[1][token.i])
    return token.idx, token.idx + len(token.text)


def surface(token: Token) -> str:
    """The text of the token's surface span ("du" for "de" and "le")."""
    start, end = surface_span(token)
    return surface_text(token.doc)[start:end]

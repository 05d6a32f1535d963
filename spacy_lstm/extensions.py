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

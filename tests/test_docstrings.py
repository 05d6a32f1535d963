"""Every public module, class, function and method of spacy_lstm says what it
does (a method that overrides spaCy's inherits spaCy's docstring)."""

import importlib
import inspect
import pkgutil

import spacy_lstm


def public_objects():
    for info in pkgutil.walk_packages(spacy_lstm.__path__, "spacy_lstm."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        yield info.name, module
        for name, obj in vars(module).items():
            if name.startswith("_") or getattr(obj, "__module__", None) != info.name:
                continue
            if inspect.isfunction(obj):
                yield f"{info.name}.{name}", obj
            elif inspect.isclass(obj):
                yield f"{info.name}.{name}", obj
                for attr, member in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    if isinstance(member, property):
                        yield f"{info.name}.{name}.{attr}", member
                    elif inspect.isfunction(member):
                        yield f"{info.name}.{name}.{attr}", getattr(obj, attr)


def test_every_public_object_has_a_docstring():
    missing = [
        name
        for name, obj in public_objects()
        if not (obj.__doc__ if inspect.isclass(obj) else inspect.getdoc(obj))
    ]
    assert not missing

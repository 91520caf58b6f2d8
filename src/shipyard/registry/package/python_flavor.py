"""The ``python`` flavor: custom models written as a :class:`PythonModel` subclass.

Such a model is saved as code, never pickled: the source file of the module that defines the
subclass is copied to ``code/<module>.py``, the keyword arguments the instance was built with go
to ``params.json``, and optional artifacts (files or folders the model reads) are copied under
``artifacts/<name>``. Loading imports that saved source under a fresh module name, builds the
class with the saved parameters and calls :meth:`PythonModel.load_context` with the artifacts
folder.

**Loading a python-flavor package runs its code.** It is meant for your team's own models,
registered through your own tracking store: the manifest check still guarantees the code is
byte for byte what was saved, but nothing limits what that code does. Load a package from
someone you do not trust only in a sandbox.

The module must be self-contained: it may import installed packages (list any that are not
already required with ``extra_requirements``) but not sibling modules of your project, and
the class must be defined at its top level.

>>> class Threshold(PythonModel):
...     def __init__(self, *, cutoff: float = 0.5) -> None:
...         self.cutoff = cutoff
...     def predict(self, data):
...         return (data["score"] > self.cutoff).to_numpy()
>>> Threshold(cutoff=0.7).get_params()
{'cutoff': 0.7}
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import json
import re
import shutil
import sys
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from shipyard._util import check_name
from shipyard.errors import InvalidArgument
from shipyard.registry.package._format import FlavorFiles, ModelInfo
from shipyard.registry.package.manifest import Manifest, read_verified

if TYPE_CHECKING:
    import pandas as pd

FLAVOR = "python"
CODE_DIR = "code"
ARTIFACTS_DIR = "artifacts"
PARAMS_FILE = "params.json"


class PythonModel:
    """Base class for a custom model saved as code.

    Subclasses take JSON-serialisable keyword parameters in ``__init__`` (they are recorded
    automatically; :meth:`get_params` returns them), may override :meth:`load_context` to read
    their artifacts, and must override :meth:`predict`. They may also define
    ``predict_proba(data)``.
    """

    _shipyard_params: dict[str, Any]

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        self = super().__new__(cls)
        self._shipyard_params = _bind_params(cls, args, kwargs)
        return self

    def get_params(self) -> dict[str, Any]:
        """The parameters this instance was built with (defaults included)."""
        return copy.deepcopy(self._shipyard_params)

    def load_context(self, artifacts: Path) -> None:
        """Called once after loading, with the package's ``artifacts`` folder (may not exist)."""

    def predict(self, data: pd.DataFrame) -> Any:
        """Predict for ``data``: a DataFrame checked against the signature when there is one
        (an array when the signature's input is a tensor)."""
        raise NotImplementedError(f"{type(self).__name__} must define predict(self, data)")


def _bind_params(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    init = cls.__init__  # type: ignore[misc]
    if init is object.__init__:
        return dict(kwargs)
    sig = inspect.signature(init)
    try:
        bound = sig.bind(None, *args, **kwargs)
    except TypeError:
        return dict(kwargs)  # __init__ itself will raise the usual TypeError
    bound.apply_defaults()
    this = next(iter(sig.parameters))
    params: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = sig.parameters[name].kind
        if name == this:
            continue
        if kind is inspect.Parameter.VAR_KEYWORD:
            params.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL and value:
            raise InvalidArgument(
                f"{cls.__name__} takes *{name}; PythonModel parameters must be named so "
                "they can be saved and passed again as keywords"
            )
        elif kind is not inspect.Parameter.VAR_POSITIONAL:
            params[name] = value
    return params


def is_model(obj: object) -> bool:
    """True for an instance of a PythonModel subclass."""
    return isinstance(obj, PythonModel)


def requirements() -> tuple[str, ...]:
    """Distributions every python-flavor package needs at load time."""
    return ("shipyard", "pandas", "numpy")


def save(
    model: PythonModel, folder: Path, *, artifacts: Mapping[str, str | Path] | None
) -> FlavorFiles:
    """Write ``model``'s code, parameters and artifacts into ``folder``. Raises InvalidArgument."""
    cls = type(model)
    source = _source_file(cls)
    module_file = f"{CODE_DIR}/{_module_stem(cls, source)}.py"
    params = _params_json(model)
    (folder / CODE_DIR).mkdir()
    shutil.copyfile(source, folder / module_file)
    (folder / PARAMS_FILE).write_text(params, encoding="utf-8")
    copied = _copy_artifacts(folder, artifacts or {})
    return FlavorFiles(
        files=(module_file, PARAMS_FILE, *copied),
        serialization="code",
        config={"module_file": module_file, "class": cls.__qualname__, "params": PARAMS_FILE},
        requirements=requirements(),
    )


def _source_file(cls: type) -> Path:
    if cls is PythonModel:
        raise InvalidArgument("save an instance of a PythonModel subclass, not PythonModel itself")
    if "." in cls.__qualname__:
        raise InvalidArgument(
            f"{cls.__qualname__} is defined inside a function or class; define it at the top "
            "level of a module so it can be imported again from the saved source"
        )
    try:
        source = inspect.getsourcefile(cls)
    except TypeError:
        source = None
    if source is None or not Path(source).is_file():
        raise InvalidArgument(
            f"the source file of {cls.__qualname__} (module {cls.__module__}) cannot be found; "
            "define the class in a .py file (not an interactive session or notebook cell)"
        )
    return Path(source)


def _module_stem(cls: type, source: Path) -> str:
    stem = cls.__module__.rpartition(".")[2]
    if stem == "__main__":
        stem = source.stem
    return re.sub(r"\W", "_", stem) or "model"


def _params_json(model: PythonModel) -> str:
    params = model.get_params()
    bad = [name for name, value in params.items() if not _json_safe(value)]
    if bad:
        raise InvalidArgument(
            f"parameters {bad} of {type(model).__name__} are not JSON-serialisable; pass plain "
            "numbers, strings, booleans, None, lists and dicts, and put files in artifacts="
        )
    return json.dumps(params, indent=2, sort_keys=True, allow_nan=False) + "\n"


def _json_safe(value: object) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


def _copy_artifacts(folder: Path, artifacts: Mapping[str, str | Path]) -> list[str]:
    written: list[str] = []
    for name, src in artifacts.items():
        check_name(name, "artifact")
        source = Path(src)
        target = folder / ARTIFACTS_DIR / name
        target.parent.mkdir(exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
            written += sorted(
                p.relative_to(folder).as_posix() for p in target.rglob("*") if p.is_file()
            )
        elif source.is_file():
            shutil.copyfile(source, target)
            written.append(target.relative_to(folder).as_posix())
        else:
            raise InvalidArgument(f"artifact {name!r}: {source} is not a file or folder")
    return written


def load(folder: Path, info: ModelInfo, manifest: Manifest) -> PythonModel:
    """Import the saved code of a verified package and build the model. Runs that code."""
    config = info.flavor_config
    module_file, class_name = str(config.get("module_file")), str(config.get("class"))
    source = read_verified(folder, module_file, manifest)
    params = json.loads(read_verified(folder, str(config.get("params", PARAMS_FILE)), manifest))
    cls = getattr(_import_source(folder / module_file, source), class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, PythonModel)):
        raise InvalidArgument(
            f"{module_file} of model package {folder} defines no PythonModel subclass "
            f"{class_name!r}"
        )
    model = cls(**params)
    model.load_context(folder / ARTIFACTS_DIR)
    return model


def _import_source(path: Path, source: bytes) -> Any:
    name = f"shipyard_model_{uuid.uuid4().hex}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise InvalidArgument(f"{path} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        exec(compile(source, str(path), "exec"), module.__dict__)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module

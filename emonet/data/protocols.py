"""The authors' two VLM annotation protocols, read at run time from their pinned notebooks.

The notebooks ``vlm-inference-prompt-zero-shot.ipynb`` and ``-multi-shot.ipynb`` (registry files,
fetched and verified like every other upstream file) define each protocol as module-level
assignments in one code cell. They are parsed with :mod:`ast` and never executed: literals are
read with :func:`ast.literal_eval`; the multi-shot template is an f-string whose substitutions are
names of the same cell, rebuilt here from those literals. Nothing of the notebooks is copied into
this repository.

- :func:`zero_shot`: the prompt (``PROMPT_TEXT`` formatted with the experts' guideline
  ``INSTRUCTIONS``, the ``OPTIONS`` as JSON and the 25-key ``EXAMPLE_OUTPUT``), the retry text
  (``ADDITIONAL_PROMPT``, appended to the prompt), the 25 categories of the example output (an
  accepted reply must have as many entries, none 0; the authors' loop checks no key) and the
  number of attempts (``max_attempts``).
- :func:`multi_shot`: the prompt (``NEW_PROMPT_TEMPLATE``), the 40 emotions and 4 extra dimensions
  with their scales, the most non-zero emotions an accepted reply may have (5) and the number of
  attempts of the authors' worker (``max_attempts``, 1).

Both also give the reply length the authors allowed (``max_tokens`` of their API request).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

from emonet.data import registry, taxonomy
from emonet.data.registry import DataError

ZERO_SHOT_FILE = "vlm-inference-prompt-zero-shot.ipynb"
MULTI_SHOT_FILE = "vlm-inference-prompt-multi-shot.ipynb"
#: The multi-shot rule on the 40 emotions, as the authors' validate_annotation states it.
MULTI_SHOT_MAX_NONZERO = 5


@dataclass(frozen=True)
class ZeroShot:
    """The zero-shot protocol: ``prompt(file_name, retry)`` renders what the authors sent."""

    prompt_text: str
    instructions: str
    options: dict
    example_output: str
    additional_prompt: str
    categories: tuple[str, ...]  # canonical names of the 25 example keys, in their order
    keys: tuple[str, ...]  # the same as "Family|Emotion" keys, as the example writes them
    max_attempts: int
    max_tokens: int = 1000  # the reply length of the authors' API request

    def prompt(self, file_name: str, retry: bool = False) -> str:
        """The authors' ``create_prompt``: the template filled in, the retry text appended."""
        text = self.prompt_text.format(
            instructions=self.instructions,
            options=json.dumps(self.options),
            example_output=self.example_output,
            file_name=file_name,
        )
        return text + self.additional_prompt if retry else text


@dataclass(frozen=True)
class MultiShot:
    """The multi-shot protocol: one prompt for every image, one attempt."""

    template: str
    emotions: dict[str, str]  # the 40 emotions (canonical names) -> descriptor text
    extra_dimensions: dict[str, dict]  # the 4 extra dimensions -> description, scale, levels
    examples: str
    additional_prompt: str
    max_nonzero: int = MULTI_SHOT_MAX_NONZERO
    max_attempts: int = 1
    max_tokens: int = 2000  # the reply length of the authors' API request

    def prompt(self, file_name: str | None = None, retry: bool = False) -> str:
        """The authors' prompt (the same for every image; ``file_name`` is not part of it); with
        ``retry`` their ``create_prompt`` inserts the retry text before the worked examples."""
        if not retry:
            return self.template
        marker = self.template.find("**MULTI-SHOT EXAMPLES")
        if marker == -1:
            return self.template + "\n\n" + self.additional_prompt
        return self.template[:marker] + self.additional_prompt + "\n\n" + self.template[marker:]


def _code_cells(path: Path) -> list[str]:
    """The sources of the code cells of notebook ``path``, in order (the file read once)."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise DataError(f"{path}: not a readable notebook ({err})") from None
    return [
        "".join(cell.get("source", []))
        for cell in notebook.get("cells", [])
        if cell.get("cell_type") == "code"
    ]


def _cell_defining(path: Path, cells: list[str], name: str) -> tuple[str, ast.Module]:
    """Source and syntax tree of the code cell of ``cells`` (:func:`_code_cells` of notebook
    ``path``) that assigns ``name``."""
    for source in cells:
        if not re.search(rf"^{name}\s*=", source, re.M):
            continue
        try:
            return source, ast.parse(source)
        except SyntaxError as err:
            raise DataError(f"{path}: the cell defining {name} does not parse ({err})") from None
    raise DataError(f"{path}: no code cell assigns {name}; not the pinned protocol notebook")


def _literals(path: Path, source: str, tree: ast.Module, names: tuple[str, ...]) -> dict:
    """The module-level assignments ``names`` of a cell, each a Python literal."""
    found = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in names
        ):
            try:
                found[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                raise DataError(f"{path}: {node.targets[0].id} is not a literal") from None
    missing = [n for n in names if n not in found]
    if missing:
        raise DataError(f"{path}: the protocol cell lacks {missing}")
    return found


def _assigned_int(tree: ast.AST, name: str) -> int | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            if isinstance(value, int):
                return value
    return None


def _max_tokens(path: Path, cells: list[str]) -> int:
    """The ``max_tokens`` of the API request a code cell of ``cells`` (:func:`_code_cells` of
    notebook ``path``) builds (a dict literal with that key)."""
    for source in cells:
        if "max_tokens" not in source:
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "max_tokens":
                        return int(ast.literal_eval(value))
    raise DataError(f"{path}: no API request with max_tokens found")


def _example_keys(path: Path, example: str) -> tuple[str, ...]:
    """The concrete ``"Family|Emotion"`` keys of the zero-shot example (its placeholder key
    ``"<CATEGORY>|<EMOTION>"`` is not one)."""
    keys = tuple(re.findall(r'"([^"<>]+\|[^"<>]+)"\s*:', example))
    for key in keys:
        try:
            taxonomy.from_family_key(key)
        except taxonomy.UnknownEmotionError as err:
            raise DataError(f"{path}: EXAMPLE_OUTPUT: {err}") from None
    return keys


def zero_shot(path: str | Path | None = None) -> ZeroShot:
    """The zero-shot protocol from its notebook (default: the pinned registry file)."""
    path = Path(path) if path is not None else registry.fetch(ZERO_SHOT_FILE)
    cells = _code_cells(path)
    source, tree = _cell_defining(path, cells, "PROMPT_TEXT")
    values = _literals(
        path,
        source,
        tree,
        ("PROMPT_TEXT", "INSTRUCTIONS", "OPTIONS", "EXAMPLE_OUTPUT", "ADDITIONAL_PROMPT"),
    )
    keys = _example_keys(path, values["EXAMPLE_OUTPUT"])
    attempts = next(
        (
            _assigned_int(ast.parse(cell), "max_attempts")
            for cell in cells
            if "max_attempts" in cell
        ),
        None,
    )
    if attempts is None:
        raise DataError(f"{path}: no max_attempts found in the retry loop")
    return ZeroShot(
        values["PROMPT_TEXT"],
        values["INSTRUCTIONS"],
        values["OPTIONS"],
        values["EXAMPLE_OUTPUT"],
        values["ADDITIONAL_PROMPT"],
        tuple(taxonomy.from_family_key(k)[0] for k in keys),
        keys,
        attempts,
        _max_tokens(path, cells),
    )


def _render(path: Path, node: ast.JoinedStr, names: dict) -> str:
    """An f-string whose substitutions are names of the same cell, rendered from ``names``."""
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(value.value)
        elif (
            isinstance(value, ast.FormattedValue)
            and isinstance(value.value, ast.Name)
            and value.value.id in names
            and value.conversion == -1
            and value.format_spec is None
        ):
            parts.append(str(names[value.value.id]))
        else:
            raise DataError(
                f"{path}: NEW_PROMPT_TEMPLATE substitutes something other than a "
                "literal name of its cell; not the pinned protocol notebook"
            )
    return "".join(parts)


#: The authors' definition of ``taxonomy_list_string``, which :func:`multi_shot` rebuilds.
_TAXONOMY_LIST = (
    '"\\n".join([f"- **{name}**: {desc}" for name, desc in EMOTION_DIMENSIONS.items()])'
)


def multi_shot(path: str | Path | None = None) -> MultiShot:
    """The multi-shot protocol from its notebook (default: the pinned registry file)."""
    path = Path(path) if path is not None else registry.fetch(MULTI_SHOT_FILE)
    cells = _code_cells(path)
    source, tree = _cell_defining(path, cells, "NEW_PROMPT_TEMPLATE")
    values = _literals(
        path,
        source,
        tree,
        (
            "EMOTION_DIMENSIONS",
            "EXTRA_DIMENSIONS",
            "extra_dims_string",
            "MULTI_SHOT_EXAMPLES",
            "ADDITIONAL_PROMPT",
        ),
    )
    nodes = {
        node.targets[0].id: node
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    }
    if ast.get_source_segment(source, nodes["taxonomy_list_string"].value) != _TAXONOMY_LIST:
        raise DataError(f"{path}: taxonomy_list_string is not defined as in the pinned notebook")
    dims = values["EMOTION_DIMENSIONS"]
    names = {
        **values,
        "taxonomy_list_string": "\n".join(f"- **{name}**: {desc}" for name, desc in dims.items()),
    }
    template = nodes["NEW_PROMPT_TEMPLATE"].value
    if not isinstance(template, ast.JoinedStr):
        raise DataError(f"{path}: NEW_PROMPT_TEMPLATE is not an f-string")
    try:
        emotions = {taxonomy.canonical(name): desc for name, desc in dims.items()}
    except taxonomy.UnknownEmotionError as err:
        raise DataError(f"{path}: EMOTION_DIMENSIONS: {err}") from None
    if sorted(emotions) != sorted(taxonomy.EMOTIONS):
        raise DataError(f"{path}: EMOTION_DIMENSIONS does not name the 40 categories")
    attempts = _assigned_int(tree, "max_attempts")
    if attempts is None:
        raise DataError(f"{path}: no max_attempts found in the protocol cell")
    return MultiShot(
        _render(path, template, names),
        emotions,
        values["EXTRA_DIMENSIONS"],
        values["MULTI_SHOT_EXAMPLES"],
        values["ADDITIONAL_PROMPT"],
        max_attempts=attempts,
        max_tokens=_max_tokens(path, cells),
    )

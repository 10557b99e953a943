"""
Parameter schemas in pure Python (no rclpy), as ros2_controllers' generate_parameter_library.

One :class:`Param` declares a parameter once: name, type (its default's), default,
description, range or choices, list length and read-only flag. A node's :class:`ParamSchema`
lists them; from it come the declaration (``schema.declare(node)``, in
:mod:`t3d_ros.ros.params`), the validation (:meth:`Param.check`) and the README's tables
(:meth:`ParamSchema.markdown`). Settings dataclasses (``TD3Config``, ``LearnerOptions``,
``ActorSettings``) give each field its constraints as ``field(metadata=...)`` (the keyword
arguments of :class:`Param`) and its description as the docstring under it; they check
themselves with :func:`check_fields`, and a node's schema takes them with
:func:`settings_params`: each range is written once.

A leaf module, as ``paths.py`` is: the core layers' dataclasses import it, so it imports only
the standard library (``ParamSchema.declare`` imports rclpy when a node calls it).
"""
from __future__ import annotations

import ast
import dataclasses
import functools
import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, Callable

ROS_TYPE_NAMES = {bool: 'bool', int: 'integer', float: 'double', str: 'string'}
"""The ROS parameter type of each element type (``ros2 param describe`` says these)."""


@dataclass(frozen=True)
class Param:
    """One parameter: everything known about it, in one declaration."""

    name: str
    default: Any
    """The default; its type is the parameter's (a list: an array of its elements' type)."""
    description: str
    low: float | None = None
    """Lowest value (of each element of a list); None = open."""
    high: float | None = None
    """Highest value (of each element of a list); None = open."""
    low_open: bool = False
    """``low`` itself is refused (e.g. a learning rate > 0)."""
    high_open: bool = False
    """``high`` itself is refused."""
    choices: tuple | None = None
    """The only values allowed."""
    lengths: tuple[int, ...] = ()
    """A list's allowed lengths (empty: any)."""
    min_length: int = 0
    """A list's shortest allowed length."""
    ascending: bool = False
    """A list's values must not decrease (e.g. [low, high])."""
    element_type: type = float
    """The element type of a list whose default is empty."""
    read_only: bool = True
    """Set at start only; a writable parameter is checked the same way when set."""
    default_from: Callable[[dict], Any] | None = None
    """The default from the values of the parameters declared before it (``default`` then
    gives the type only)."""
    default_text: str = ''
    """How the README shows a ``default_from`` default."""

    def __post_init__(self):
        if self.default_from is not None and not self.default_text:
            raise TypeError(f'parameter {self.name!r}: default_from needs a default_text')
        if (self.low is not None or self.high is not None) and self.kind not in (int, float):
            raise TypeError(f'parameter {self.name!r}: a range needs numbers, not '
                            f'{self.kind.__name__}')
        self.check(self.default)

    @property
    def is_list(self) -> bool:
        return isinstance(self.default, (list, tuple))

    @property
    def kind(self) -> type:
        """The type of the value, or of each element of a list."""
        if self.is_list:
            return type(self.default[0]) if self.default else self.element_type
        return type(self.default)

    @property
    def ros_type(self) -> str:
        name = ROS_TYPE_NAMES[self.kind]
        return f'{name}_array' if self.is_list else name

    def range_text(self) -> str:
        """Return the range as an interval, e.g. ``(0.0, 1.0]``; '' without one."""
        if self.low is None and self.high is None:
            return ''
        low = '-inf' if self.low is None else repr(self.low)
        high = 'inf' if self.high is None else repr(self.high)
        return f'{"(" if self.low_open else "["}{low}, {high}{")" if self.high_open else "]"}'

    def constraints(self) -> list[str]:
        """Return what a value must satisfy beyond its type, in words."""
        texts = []
        if self.range_text():
            texts.append(('each in ' if self.is_list else '') + self.range_text())
        if self.choices is not None:
            texts.append('one of: ' + ', '.join(map(str, self.choices)))
        if self._length_text():
            texts.append(self._length_text())
        if self.ascending:
            texts.append('ascending')
        return texts

    def check(self, value: Any) -> Any:
        """
        Return ``value`` as this parameter's type (a list for a list; floats for integers).

        Raise ValueError naming the parameter where the value cannot be used: another type,
        a non-finite float, out of range, not among the choices, a wrong length or order.
        """
        if not self.is_list:
            value = self._check_element(value)
        elif isinstance(value, Sequence) and not isinstance(value, str):
            value = [self._check_element(item) for item in value]
            self._check_length_and_order(value)
        else:
            raise ValueError(f'parameter {self.name!r}: {value!r} is not of type {self.ros_type}')
        if self.choices is not None and value not in self.choices:
            raise ValueError(f'parameter {self.name!r} must be one of {list(self.choices)}, '
                             f'not {value!r}')
        return value

    def _check_element(self, value: Any) -> Any:
        kind = self.kind
        if kind is bool:
            ok = isinstance(value, bool)
        elif kind is str:
            ok = isinstance(value, str)
        else:  # an integer is a float too, as in a params file (rate_hz: 50); a bool is neither
            ok = isinstance(value, Integral if kind is int else Real) and not isinstance(
                value, bool)
        if not ok:
            raise ValueError(f'parameter {self.name!r}: {value!r} is not of type '
                             f'{ROS_TYPE_NAMES[kind]}')
        if kind is float:
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f'parameter {self.name!r}: {value!r} is not a finite number')
        elif kind is int:
            value = int(value)
        if not self._in_range(value):
            raise ValueError(f'parameter {self.name!r}: {value!r} is outside '
                             f'{self.range_text()}')
        return value

    def _in_range(self, value) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return self.high is None or not (value > self.high
                                         or (self.high_open and value == self.high))

    def _length_text(self) -> str:
        if self.lengths:
            return ' or '.join(map(str, self.lengths)) + ' values'
        if self.min_length:
            return f'at least {self.min_length} value' + 's' * (self.min_length > 1)
        return ''

    def _check_length_and_order(self, values: list) -> None:
        if (self.lengths and len(values) not in self.lengths) or len(values) < self.min_length:
            raise ValueError(f'parameter {self.name!r} needs {self._length_text()}, not '
                             f'{len(values)}: {values}')
        if self.ascending and any(a > b for a, b in zip(values, values[1:])):
            raise ValueError(f'parameter {self.name!r} must be ascending: {values}')

    def markdown_row(self) -> str:
        """Return this parameter's row of the README table."""
        if self.default_from is not None:
            default = self.default_text
        else:
            default = f'`{_yaml(self.default)}`'
        read_only = '' if self.read_only else ' (settable at run time)'
        cells = [f'`{self.name}`', self.ros_type, default,
                 '; '.join(self.constraints()), _one_line(self.description) + read_only]
        return '| ' + ' | '.join(cell.replace('|', '\\|') for cell in cells) + ' |'


@dataclass(frozen=True)
class ParamSchema:
    """The parameters of one node, in declaration order."""

    node: str
    params: tuple[Param, ...]

    def __post_init__(self):
        names = [param.name for param in self.params]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f'{self.node}: parameters declared twice: {duplicates}')

    def __getitem__(self, name: str) -> Param:
        return self.by_name[name]

    @functools.cached_property
    def by_name(self) -> dict[str, Param]:
        return {param.name: param for param in self.params}

    def declare(self, node) -> dict[str, Any]:
        """Declare every parameter on the rclpy ``node``; return {name: value}."""
        from t3d_ros.ros.params import declare_schema  # rclpy: only where a node declares
        return declare_schema(node, self)

    def markdown(self) -> str:
        """Return the README table of these parameters."""
        return '\n'.join(['| parameter | type | default | range | meaning |',
                          '|---|---|---|---|---|',
                          *(param.markdown_row() for param in self.params)])


def field_docs(cls: type) -> dict[str, str]:
    """Return each dataclass field's docstring (the string literal under it)."""
    tree = ast.parse(inspect.getsource(cls))
    body = tree.body[0].body
    docs = {}
    for node, following in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)):
            docs[node.target.id] = following.value.value
    return docs


@functools.lru_cache(maxsize=None)
def settings_params(cls: type, note: str = '') -> tuple[Param, ...]:
    """
    Return a settings dataclass's fields as parameters.

    The default is the field's (a tuple as a list), the description its docstring (``note``
    added in parentheses), the constraints its ``metadata``.
    """
    docs = field_docs(cls)
    params = []
    for field in dataclasses.fields(cls):
        default = field.default
        description = _one_line(docs[field.name])
        if note:
            description = f'{description.rstrip(".")} ({note}).'
        params.append(Param(field.name, list(default) if isinstance(default, tuple) else default,
                            description, **field.metadata))
    return tuple(params)


def check_fields(settings) -> None:
    """Raise ValueError naming the first field of dataclass ``settings`` that breaks a rule."""
    for param in settings_params(type(settings)):
        param.check(getattr(settings, param.name))


def _one_line(text: str) -> str:
    return ' '.join(text.split())


def _yaml(value: Any) -> str:
    """Return ``value`` as a params file writes it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return value if value else "''"
    if isinstance(value, (list, tuple)):
        return '[' + ', '.join(map(_yaml, value)) + ']'
    return repr(value)

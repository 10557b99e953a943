"""
The README's generated tables: each node's parameters (its schema) and the package layout.

Each table stands in README.md between its markers, ``<!-- parameters: actor -->`` ...
``<!-- end parameters: actor -->`` and ``<!-- layout -->`` ... ``<!-- end layout -->``.
``python -m t3d_ros.nodes.readme_tables`` writes them; with ``--check`` it only names the
tables that differ from the code (exit status 1).
"""
from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

from t3d_ros.nodes.actor_params import ACTOR_PARAMS
from t3d_ros.nodes.learner_params import LEARNER_PARAMS
from t3d_ros.nodes.sim_params import SIM_PARAMS

PACKAGE = Path(__file__).resolve().parents[1]
README = PACKAGE.parent / 'README.md'
REGENERATE = 'python -m t3d_ros.nodes.readme_tables'


def tables(package: Path = PACKAGE) -> dict[str, str]:
    """Return every generated table by its marker name."""
    schemas = (SIM_PARAMS, ACTOR_PARAMS, LEARNER_PARAMS)
    return {**{f'parameters: {schema.node}': schema.markdown() for schema in schemas},
            'layout': layout_table(package)}


def layout_table(package: Path = PACKAGE) -> str:
    """
    Return the layout table: a row per folder of ``package`` and per module at its top.

    A folder's row is the first line of its ``__init__.py`` docstring, a module's the first
    line of its own.
    """
    rows = ['| path | what it holds |', '|---|---|']
    for path in sorted(package.iterdir()):
        if (path / '__init__.py').is_file():
            rows.append(f'| `{package.name}/{path.name}/` | {summary(path / "__init__.py")} |')
    for path in sorted(package.glob('*.py')):
        if path.name != '__init__.py':
            rows.append(f'| `{package.name}/{path.name}` | {summary(path)} |')
    return '\n'.join(rows)


def summary(module: Path) -> str:
    """Return the first line of ``module``'s docstring, escaped for a table cell."""
    docstring = ast.get_docstring(ast.parse(module.read_text()))
    if not docstring:
        raise ValueError(f'{module} has no docstring: the README layout table needs its first '
                         'line')
    return docstring.strip().splitlines()[0].replace('|', '\\|')


def _pattern(name: str) -> re.Pattern:
    return re.compile(f'(<!-- {re.escape(name)} -->\n)(.*?)(<!-- end {re.escape(name)} -->)',
                      re.DOTALL)


def render(text: str, generated: dict[str, str]) -> str:
    """Return README ``text`` with each table of ``generated`` put between its markers."""
    for name, table in generated.items():
        pattern = _pattern(name)
        if not pattern.search(text):
            raise ValueError(f'README has no "<!-- {name} -->" ... "<!-- end {name} -->" '
                             'markers')
        text = pattern.sub(lambda match: match[1] + table + '\n' + match[3], text)
    return text


def stale(text: str, generated: dict[str, str]) -> list[str]:
    """Return the names of the tables that README ``text`` does not hold as generated."""
    return [name for name in generated
            if render(text, {name: generated[name]}) != text]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog=REGENERATE, description=__doc__.strip().splitlines()[0])
    parser.add_argument('--readme', type=Path, default=README)
    parser.add_argument('--check', action='store_true',
                        help='only report the tables that differ; exit 1 if any does')
    args = parser.parse_args(argv)
    text = args.readme.read_text()
    generated = tables()
    differing = stale(text, generated)
    if args.check:
        for name in differing:
            print(f'{args.readme}: the "{name}" table differs from the code; run {REGENERATE}')
        return 1 if differing else 0
    args.readme.write_text(render(text, generated))
    print(f'{args.readme}: ' + (f'rewrote {", ".join(differing)}' if differing
                                else 'every table was up to date'))
    return 0


if __name__ == '__main__':
    sys.exit(main())

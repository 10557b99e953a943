"""The README's parameter and layout tables are the code's (issue 17.3)."""
import pytest

pytest.importorskip('rclpy', reason='the node schemas name rclpy QoS (requirements-ros.txt)')

from t3d_ros.nodes import readme_tables  # noqa: E402


@pytest.mark.parametrize('name', list(readme_tables.tables()))
def test_the_readme_holds_the_generated_table(name):
    text = readme_tables.README.read_text()
    assert readme_tables.stale(text, {name: readme_tables.tables()[name]}) == [], (
        f'README.md\'s "{name}" table differs from the code: run '
        f'`{readme_tables.REGENERATE}` to regenerate it')


def test_only_what_stands_between_the_markers_is_rewritten():
    text = 'intro\n<!-- layout -->\nold\nrows\n<!-- end layout -->\noutro\n'
    assert readme_tables.render(text, {'layout': '| new |'}) == (
        'intro\n<!-- layout -->\n| new |\n<!-- end layout -->\noutro\n')
    assert readme_tables.stale(text, {'layout': '| new |'}) == ['layout']
    with pytest.raises(ValueError, match='no "<!-- parameters: sim -->"'):
        readme_tables.render(text, {'parameters: sim': '| sim |'})


def test_check_names_a_stale_table_and_a_run_rewrites_it(tmp_path, capsys):
    readme = tmp_path / 'README.md'
    readme.write_text(''.join(f'<!-- {name} -->\n<!-- end {name} -->\n'
                              for name in readme_tables.tables()))
    assert readme_tables.main(['--readme', str(readme), '--check']) == 1
    assert 'the "parameters: actor" table differs from the code' in capsys.readouterr().out
    assert readme_tables.main(['--readme', str(readme)]) == 0
    assert readme_tables.main(['--readme', str(readme), '--check']) == 0
    assert '| `transitions_per_message` |' in readme.read_text()


def test_the_layout_has_a_row_per_folder_and_top_module_from_their_docstrings(tmp_path):
    package = tmp_path / 'pkg'
    (package / 'core').mkdir(parents=True)
    (package / 'data').mkdir()  # no __init__.py: not a package folder
    (package / '__init__.py').write_text('"""The package."""\n')
    (package / 'core' / '__init__.py').write_text('"""\nThe core: a | b.\n\nMore.\n"""\n')
    (package / 'cli.py').write_text('"""The command line."""\n')
    assert readme_tables.layout_table(package).splitlines()[2:] == [
        r'| `pkg/core/` | The core: a \| b. |', '| `pkg/cli.py` | The command line. |']
    (package / 'paths.py').write_text('import os\n')
    with pytest.raises(ValueError, match='paths.py has no docstring'):
        readme_tables.layout_table(package)

"""
Tasks from the user's own package (issue 19.3): the entry point group ``t3d_ros.tasks``.

The example package ``test/data/t3d_example_task`` is installed by pip (conftest's
``example_task``); broken registrations are fake distributions written here.
"""
import dataclasses
import subprocess
import sys
import textwrap

import pytest

from t3d_ros import cli
from t3d_ros.bench.common import random_bundle
from t3d_ros.bundle.policy_bundle import PolicyBundle
from t3d_ros.tasks import TaskPluginError, make_task, plugin_task_names
from t3d_ros.tasks.base import Task

EXAMPLE_PACKAGE = ('t3d-example-task', '0.1.0')


def slider_bundle_without_the_package(tmp_path, package=EXAMPLE_PACKAGE):
    """Save a bundle naming task ``slider`` of ``package`` (a pendulum's actor, period 0.05 s)."""
    bundle = random_bundle(make_task('pendulum'), hidden_sizes=(8,))
    path = tmp_path / 'slider.safetensors'
    dataclasses.replace(bundle, task='slider', task_package=package,
                        format_version=None).save(path)
    return path


def test_a_task_of_an_installed_package_is_made_by_name(example_task):
    task = make_task('slider')
    assert type(task).__name__ == 'SliderTask' and isinstance(task, Task)
    assert task.package == EXAMPLE_PACKAGE and str(task.package) == 't3d-example-task 0.1.0'
    assert 'slider' in plugin_task_names()
    assert task.model_path().name == 'slider.urdf' and task.model_path().is_file()


def test_without_the_package_the_name_is_unknown_and_the_message_says_where_to_look():
    assert 'slider' not in plugin_task_names()
    with pytest.raises(ValueError, match=r"unknown task 'slider'.*t3d_ros\.tasks"):
        make_task('slider')


def test_its_gymnasium_id_makes_a_checked_env(example_task):
    script = textwrap.dedent('''
        import gymnasium
        from gymnasium.utils.env_checker import check_env
        import t3d_ros.envs
        env = gymnasium.make('t3d/Slider-v0')
        check_env(env.unwrapped, skip_render_check=True)
        obs, _ = env.reset(seed=0)
        print(env.unwrapped.task.name, obs.shape)
    ''')
    result = subprocess.run([sys.executable, '-c', script], env=example_task.env(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['slider', '(3,)']


def test_it_trains_in_the_direct_trainer_and_its_bundle_names_the_package(example_task,
                                                                          tmp_path):
    import torch

    from t3d_ros.td3.config import TD3Config
    from t3d_ros.acting.core import ActorSettings
    from t3d_ros.training.direct import train_direct
    from t3d_ros.training.learner import LearnerOptions

    torch.set_num_threads(1)
    config = TD3Config(hidden_sizes=(32, 32), batch_size=32, learning_starts=200, seed=0)
    result = train_direct('slider', config, total_steps=600,
                          options=LearnerOptions(checkpoint_every=0),
                          actor=ActorSettings(start_steps=200), run_dir=str(tmp_path),
                          eval_every=600, eval_episodes=2)
    assert result.env_steps == 600 and result.updates >= 300
    bundle = PolicyBundle.load(tmp_path / 'policy.safetensors')
    assert bundle.task == 'slider' and bundle.task_package == EXAMPLE_PACKAGE
    assert bundle.format_version == '3'
    bundle.check_matches(bundle.make_task())
    assert bundle.check_deployment('forward_effort_controller/commands', 0.02) == []


def test_a_task_of_this_package_still_makes_a_version_2_bundle():
    bundle = random_bundle(make_task('pendulum'), hidden_sizes=(8,))
    assert bundle.task_package is None and bundle.format_version == '2'
    assert PolicyBundle.from_bytes(bundle.to_bytes()).format_version == '2'


def test_a_bundle_whose_task_package_is_not_installed_is_refused_naming_it(tmp_path, capsys):
    path = slider_bundle_without_the_package(tmp_path)
    bundle = PolicyBundle.load(path)
    assert bundle.task_package == EXAMPLE_PACKAGE
    with pytest.raises(TaskPluginError, match=r't3d-example-task 0\.1\.0, which is not '
                                              r'installed'):
        bundle.make_task()
    for command in (['eval', str(path)], ['deploy', str(path)]):
        assert cli.main(command) == 2
        assert 'Python package t3d-example-task 0.1.0, which is not installed' in \
            capsys.readouterr().err


def test_another_version_of_the_task_package_is_warned_at_deployment(example_task, tmp_path):
    bundle = PolicyBundle.load(slider_bundle_without_the_package(
        tmp_path, ('t3d-example-task', '0.0.9')))
    assert bundle.check_deployment('forward_effort_controller/commands', 0.05) == [
        "task 'slider' is t3d-example-task 0.1.0 here; the policy was trained with "
        't3d-example-task 0.0.9']


@pytest.mark.parametrize('changes, message', [
    ({'format_version': '2'}, 'format version 3 holds a task_package'),
    ({'task_package': ('t3d-example-task', '')}, 'task_package must be'),
    ({'task_package': 'package'}, 'task_package must be'),
])
def test_bad_task_packages_are_refused(changes, message):
    bundle = random_bundle(make_task('pendulum'), hidden_sizes=(8,))
    fields = {'task_package': EXAMPLE_PACKAGE, 'format_version': None, **changes}
    with pytest.raises(ValueError, match=message):
        dataclasses.replace(bundle, **fields)


BROKEN_TASKS = textwrap.dedent('''
    from t3d_ros.tasks.pendulum import PendulumTask

    class NotATask:
        name = 'not_a_task'

    class Misnamed(PendulumTask):
        name = 'pendulum'

    class Fails(PendulumTask):
        name = 'fails'

        def __init__(self):
            raise RuntimeError('no robot here')
''')
BROKEN_ENTRY_POINTS = {
    'broken-tasks': {'not_a_task': 'broken_tasks:NotATask', 'misnamed': 'broken_tasks:Misnamed',
                     'fails': 'broken_tasks:Fails', 'missing': 'broken_tasks:Missing',
                     'claimed_twice': 'broken_tasks:Fails'},
    'other-tasks': {'claimed_twice': 'broken_tasks:Fails'},
}


@pytest.fixture
def broken_tasks(tmp_path, monkeypatch):
    """Two fake installed distributions whose registrations are all unusable."""
    (tmp_path / 'broken_tasks.py').write_text(BROKEN_TASKS)
    for distribution, entries in BROKEN_ENTRY_POINTS.items():
        info = tmp_path / f'{distribution.replace("-", "_")}-1.0.dist-info'
        info.mkdir()
        (info / 'METADATA').write_text(f'Metadata-Version: 2.1\nName: {distribution}\n'
                                       'Version: 1.0\n')
        (info / 'entry_points.txt').write_text('[t3d_ros.tasks]\n' + ''.join(
            f'{name} = {value}\n' for name, value in entries.items()))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop('broken_tasks', None)


@pytest.mark.parametrize('name, message', [
    ('not_a_task', r"task 'not_a_task' of package broken-tasks 1\.0 \(broken_tasks:NotATask, "
                   r'entry point group t3d_ros\.tasks\) is not a subclass of'),
    ('misnamed', r"the class is named 'pendulum'"),
    ('fails', r'cannot be built: RuntimeError: no robot here'),
    ('missing', r'cannot be imported: AttributeError'),
    ('claimed_twice', r"registered by several packages: broken-tasks 1\.0 .*, other-tasks 1\.0"),
])
def test_an_unusable_registration_is_refused_with_a_clear_error(broken_tasks, name, message):
    with pytest.raises(TaskPluginError, match=message):
        make_task(name)


def test_a_built_in_name_is_never_taken_by_a_package(broken_tasks, tmp_path):
    (tmp_path / 'broken_tasks-1.0.dist-info' / 'entry_points.txt').write_text(
        '[t3d_ros.tasks]\npendulum = broken_tasks:Fails\n')
    task = make_task('pendulum')
    assert task.package is None and type(task).__module__ == 't3d_ros.tasks.pendulum'

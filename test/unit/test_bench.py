"""
The cheap parts of `t3d-ros bench`.

The table, the update benchmark at toy sizes, the run driver, the ROS isolation. No timing
assertions: speed depends on the machine.
"""
import inspect
import json
import math

import pytest
import torch

from t3d_ros import bench, cli
from t3d_ros.bench import ros, table, updates

TINY_UPDATES = dict(updates=4, hidden_sizes=(8, 8), batch_size=4, memory_size=64, rounds=2)


def test_markdown_table_shows_values_ratios_and_n_a():
    results = {
        'machine': {'cpus': 2},
        'learner_updates': {'updates_per_s': 250.0, 'reference_updates_per_s': 200.0},
        'ros_loop': {'ros_steps_per_s': 1234.5, 'direct_steps_per_s': 0.0},
        'latency': {'actor_p50_ms': 1.234, 'echo_p50_ms': 0.5, 'actor_p99_ms': None,
                    'echo_p99_ms': 1.0},
        'policy_propagation': {'error': 'BenchError: no policy receiver within 180 s'},
        'time_to_threshold': {'ros_s': math.nan, 'direct_s': 80.0},
    }
    lines = bench.markdown_table(results).splitlines()
    assert lines[0] == '| measure | t3d_ros | reference | ratio |'
    assert lines[1] == '|---|---:|---:|---:|'
    assert len(lines) == 2 + len(bench.TABLE_ROWS)
    rows = {line.split(' | ')[0].lstrip('| '): line.split(' | ')[1:] for line in lines[2:]}
    cells = list(rows.values())
    assert cells[0] == ['250', '200', '1.25 |']
    assert cells[1] == ['1,234', '0.00', 'n/a |']  # a zero reference has no ratio
    assert cells[2] == ['1,234', 'n/a', 'n/a |']  # a reference not measured
    assert cells[3] == ['1.23', '0.50', '2.47 |']
    assert cells[4] == ['n/a', '1.00', 'n/a |']
    assert cells[5] == ['n/a', 'n/a', 'n/a |']  # failed measurement
    assert cells[6] == ['n/a', '80.0', 'n/a |']  # threshold not reached over ROS


def test_failures_lists_the_measurements_with_errors():
    results = {'machine': {'cpus': 2}, 'latency': {'error': 'BenchError: x'},
               'ros_loop': {'ros_steps_per_s': 1.0}, 'time_to_threshold': {'skipped': 'quick'}}
    assert bench.failures(results) == {'latency': 'BenchError: x'}


def test_bench_updates_measures_both_updates():
    result = updates.bench_updates(**TINY_UPDATES)
    assert result['updates_per_s'] > 0 and math.isfinite(result['updates_per_s'])
    assert result['reference_updates_per_s'] > 0
    assert result['hidden_sizes'] == [8, 8] and result['batch_size'] == 4


def test_run_benchmarks_writes_json_and_prints_the_table(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(bench.BENCHES, 'learner_updates',
                        (updates.bench_updates, TINY_UPDATES, TINY_UPDATES))
    threads = torch.get_num_threads()
    try:
        results = bench.run_benchmarks(tmp_path / 'bench.json', quick=True,
                                       only=['learner_updates', 'time_to_threshold'])
    finally:
        torch.set_num_threads(threads)
    saved = json.loads((tmp_path / 'bench.json').read_text())
    assert saved['learner_updates']['updates_per_s'] == results['learner_updates']['updates_per_s']
    assert saved['time_to_threshold'] == {'skipped': 'not in a quick run'}
    assert saved['machine']['quick'] is True and 'load_after' in saved['machine']
    assert set(saved) == {'machine', 'learner_updates', 'time_to_threshold'}
    assert '| learner updates/s' in capsys.readouterr().out


def test_every_benchmark_accepts_its_settings_and_the_cli_knows_it():
    assert set(cli.BENCH_NAMES) == set(bench.BENCHES)
    for name, (function, quick, full) in bench.BENCHES.items():
        for settings in (quick, full):
            if settings is not None:
                inspect.signature(function).bind(**settings)


def test_helper_nodes_run_as_this_module_with_ros_arguments(tmp_path):
    spec = ros.HelperSpec('echo', 'echo', 'robot_0', (), {'command_topic': 'x/commands'})
    command = spec.command(tmp_path, 'python3')
    assert command[:4] == ['python3', '-m', 't3d_ros.bench', 'echo']
    assert command[4:9] == ['--ros-args', '-r', '__node:=echo', '-r', '__ns:=/robot_0']
    params = tmp_path / 'robot_0.echo.yaml'
    assert command[9:] == ['--params-file', str(params)]
    assert 'command_topic: x/commands' in params.read_text()
    assert set(ros.HELPER_NODES) == {'echo', 'policy_receiver'}


@pytest.mark.parametrize('value, text', [(None, 'n/a'), (1234.6, '1,235'), (12.34, '12.3'),
                                         (0.1234, '0.12')])
def test_number_format(value, text):
    assert table.fmt(value) == text


# --- Stable-Baselines3 as a reference (the optional `bench` extra) ---------------------------

@pytest.fixture
def one_thread():
    """One torch thread, as `t3d-ros bench` runs (on a loaded machine, more spin idle)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_sb3_rows_run_in_a_quick_mode(one_thread):
    pytest.importorskip('stable_baselines3')
    from t3d_ros.bench import threshold

    rates = updates.bench_updates(**TINY_UPDATES)
    assert rates['sb3_updates_per_s'] > 0 and math.isfinite(rates['sb3_updates_per_s'])
    # 1,100 steps: 1,000 random start steps, then 100 of SB3's (and our) updates; pendulum's
    # threshold is out of reach, so the times are None and the rows say n/a.
    result = threshold.bench_time_to_threshold(max_steps=1100, seeds=(0,), ros_actors=())
    assert result['sb3_s'] is None and result['sb3_env_steps'] is None
    assert result['sb3_episodes'] >= 5 and result['sb3_total_s'] > 0
    assert 'ros_s' not in result and result['direct_s'] is None
    table = bench.markdown_table({'learner_updates_64': rates, 'time_to_threshold': result})
    row = next(line for line in table.splitlines() if '(64-64, batch 256, 1 thread) vs Stable'
               in line)
    assert 'n/a' not in row.split(' | ', 1)[1].rsplit(' | ', 1)[0]  # both rates shown


def test_sb3_gets_the_learner_settings():
    pytest.importorskip('stable_baselines3')
    from t3d_ros.bench import sb3
    from t3d_ros.envs.task_env import TaskEnv
    from t3d_ros.td3.config import TD3Config

    config = TD3Config(hidden_sizes=(32, 16), batch_size=64, tau=0.01, gamma=0.98,
                       policy_delay=3, policy_noise=0.3, noise_clip=0.4, actor_lr=1e-3,
                       critic_lr=1e-3)
    model = sb3._model(TaskEnv('pendulum'), config, learning_starts=7, gradient_steps=2)
    assert (model.batch_size, model.tau, model.gamma, model.policy_delay) == (64, 0.01, 0.98, 3)
    assert (model.target_policy_noise, model.target_noise_clip) == (0.3, 0.4)
    assert (model.learning_rate, model.learning_starts, model.gradient_steps) == (1e-3, 7, 2)
    linear = [m for m in model.actor.mu if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linear[:-1]] == [32, 16]
    with pytest.raises(ValueError, match='one learning rate'):
        sb3._model(TaskEnv('pendulum'), config.replace(critic_lr=3e-4))


def test_without_sb3_the_rows_say_how_to_get_them(monkeypatch, one_thread):
    from t3d_ros.bench import sb3

    monkeypatch.setattr(sb3, 'installed', lambda: False)
    rates = updates.bench_updates(**TINY_UPDATES)
    assert rates['sb3'] == sb3.MISSING and 'sb3_updates_per_s' not in rates
    assert 'requirements-bench.txt' in sb3.MISSING
    lines = bench.markdown_table({'learner_updates': rates}).splitlines()
    sb3_rows = [line for line in lines if 'vs Stable-Baselines3' in line and '256-256' in line]
    assert sb3_rows and all(sb3.MISSING in line for line in sb3_rows)


def test_threshold_times_are_medians_over_seeds_with_misses_ranked_slowest():
    from t3d_ros.bench.threshold import median

    assert median([30.0, None, 10.0]) == 30.0
    assert median([None, 5.0, None]) is None
    assert median([4.0, 2.0]) == 3.0 and median([4.0, None]) is None
    assert median([7]) == 7


@pytest.mark.slow
def test_direct_and_sb3_are_timed_as_whole_processes(one_thread):
    from t3d_ros.bench import sb3
    from t3d_ros.bench.threshold import _whole_process

    # A threshold every episode reaches: the first training episode (200 steps) ends it.
    for contender in ['direct', 'sb3'] if sb3.installed() else ['direct']:
        result = _whole_process(contender, 0, 1100, (64, 64), threshold=-1e9)
        assert result[f'{contender}_env_steps'] == 200
        # The process's start and imports come before the trainer's own clock starts.
        assert result[f'{contender}_s'] > result[f'{contender}_training_s'] + 0.5, result


@pytest.mark.slow
def test_learning_curve_trains_both_sides_in_a_quick_mode(tmp_path):
    pytest.importorskip('stable_baselines3')
    from t3d_ros.bench import learning_curve

    # Pendulum, 1,100 steps: 1,000 random start steps, then about 100 updates on each side.
    result = learning_curve.bench_learning_curve(
        max_steps=1100, task_name='pendulum', eval_every=550, eval_episodes=1,
        hidden_sizes=(16, 16), run_dir=str(tmp_path))
    assert result['env_id'] == 't3d/Pendulum-v0' and result['hidden_sizes'] == [16, 16]
    for side in ('direct', 'sb3'):
        runs = result[side]
        assert runs['env_steps'] == 1100 and 95 <= runs['updates'] <= 101
        assert [row['env_steps'] for row in runs['evaluations']] == [550, 1100]
        assert runs['evaluations'][0]['updates'] == 0 and runs['evaluations'][1]['updates'] > 0
        assert all(row['std_return'] == 0.0 for row in runs['evaluations'])  # one episode
        assert len(runs['load_1min']) == 2 and runs['wall_s'] > 0
        assert (tmp_path / side / 'metrics.csv').read_text().count('\n') == 1 + 5
        assert (tmp_path / side / 'learning_curve.png').stat().st_size > 0
    assert result['figure'] == str(tmp_path / 'learning_curve.png')
    assert (tmp_path / 'learning_curve.png').stat().st_size > 0


def test_the_learning_curve_runs_only_when_named(tmp_path, monkeypatch):
    ran = []
    for name in bench.BENCHES:
        monkeypatch.setitem(bench.BENCHES, name, (lambda name=name: ran.append(name) or {},
                                                  {}, {}))
    threads = torch.get_num_threads()
    try:
        bench.run_benchmarks(tmp_path / 'all.json')
        assert 'learning_curve' not in ran and len(ran) == len(bench.BENCHES) - 1
        ran.clear()
        bench.run_benchmarks(tmp_path / 'one.json', only=['learning_curve'])
    finally:
        torch.set_num_threads(threads)
    assert ran == ['learning_curve']

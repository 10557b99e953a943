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
    assert cells[2] == ['1.23', '0.50', '2.47 |']
    assert cells[3] == ['n/a', '1.00', 'n/a |']
    assert cells[4] == ['n/a', 'n/a', 'n/a |']  # failed measurement
    assert cells[5] == ['n/a', '80.0', 'n/a |']  # threshold not reached over ROS


def test_failures_lists_the_measurements_with_errors():
    results = {'machine': {'cpus': 2}, 'latency': {'error': 'BenchError: x'},
               'ros_loop': {'ros_steps_per_s': 1.0}, 'time_to_threshold': {'skipped': 'quick'}}
    assert bench.failures(results) == {'latency': 'BenchError: x'}


def test_bench_updates_measures_both_updates():
    result = updates.bench_updates(**TINY_UPDATES)
    assert result['updates_per_s'] > 0 and math.isfinite(result['updates_per_s'])
    assert result['reference_updates_per_s'] > 0
    assert result['hidden_sizes'] == [8, 8] and result['batch_size'] == 4


def test_reference_update_moves_the_critics_and_the_targets_slowly():
    from t3d_ros.td3.config import TD3Config
    from t3d_ros.td3.reference import ReferenceTD3
    from t3d_ros.td3.replay import Batch

    config = TD3Config(hidden_sizes=(8, 8), batch_size=4)
    reference = ReferenceTD3(3, 1, config)
    batch = Batch(torch.randn(4, 3), torch.rand(4, 1) * 2 - 1, torch.randn(4), torch.randn(4, 3),
                  torch.zeros(4))
    critic, target = ([p.clone() for p in net.parameters()]
                      for net in (reference.q1, reference.q1_target))
    for _ in range(config.policy_delay):
        reference.train(batch)
    moved = max((a - b).abs().max().item() for a, b in zip(reference.q1.parameters(), critic))
    target_moved = max((a - b).abs().max().item()
                       for a, b in zip(reference.q1_target.parameters(), target))
    assert moved > 0
    assert 0 < target_moved < moved  # Polyak: a tau-sized step towards the critic


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
